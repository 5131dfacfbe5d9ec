import assert from "node:assert/strict";
import { appendMac, checkPacketAuth, computeDigest } from "../ntp/auth.ts";
import { parseKeyFile } from "../ntp/keyfile.ts";
import { decodePacket, emptyPacket, encodePacket, NtpMode } from "../ntp/packet.ts";
import { instantToNtp64 } from "../ntp/timestamp.ts";
import { AccessTable } from "./access.ts";
import { ClientLog } from "./client_log.ts";
import { NtpResponder } from "./server.ts";
import type { ReferenceState } from "./types.ts";
import { seededRandom } from "../../tests/helpers/random.ts";

const KEYS = parseKeyFile(
  "1 SHA1 HEX:19C12E347D12C16E1712D64604145A767B7628C7\n" +
    "2 AES128 HEX:FAB72067F047CE06ED1BE7BE97E19B6D\n" +
    "3 SHA512 HEX:00112233445566778899aabbccddeeff\n" +
    "4 MD5 HEX:EEC59B2C20E7D077929B\n",
).keys;
const OTHER = parseKeyFile("1 SHA1 HEX:0000000000000000000000000000000000000000\n").keys;
const RX = 1_800_000_000_000_000_000n;
const TX = RX + 50_000n;
const FROM = { address: "192.0.2.9", port: 40000 };

function reference(): ReferenceState {
  return {
    synchronised: true,
    leap: 0,
    stratum: 2,
    refId: 0x7f000001,
    refTime: RX - 10_000_000_000n,
    rootDelay: 0.001,
    rootDispersion: 0.001,
    dispersionRate: 1e-6,
    precisionLog2: -20,
  } as ReferenceState;
}

function request(version = 4): Uint8Array {
  const p = emptyPacket(NtpMode.Client);
  p.version = version;
  p.transmitTime = instantToNtp64(RX - 1_000_000n);
  return encodePacket(p);
}

function allowAll(): AccessTable {
  return new AccessTable([{ allow: true, subnet: "all", all: false }]);
}

function responder(clientLog: ClientLog | null = null): NtpResponder {
  return new NtpResponder({ access: allowAll(), clientLog, keys: KEYS });
}

Deno.test("server auth: a request MAC'd with a known key gets a reply MAC'd with it", () => {
  const log = new ClientLog({ limitBytes: 4096, ntpRateLimit: null, random: seededRandom(1) });
  const r = responder(log);
  for (
    const [id, version, macLen] of [[1, 4, 24], [2, 4, 20], [4, 4, 20], [3, 3, 68], [1, 3, 24]]
  ) {
    const req = appendMac(request(version), KEYS.get(id)!);
    const out = r.respond(req, FROM, RX, reference(), () => TX);
    assert.ok(out !== null, `key ${id}`);
    assert.equal(out.length, 48 + macLen);
    assert.ok(out.length <= req.length);
    const check = checkPacketAuth(out, KEYS);
    assert.ok(check.kind === "ok" && check.key.id === id, `key ${id} v${version}`);
    const d = decodePacket(out);
    assert.ok(d.ok && d.packet.mode === 4 && d.packet.version === version);
  }
  assert.equal(log.serverStats().ntpAuthHits, 5);
  // Unauthenticated requests still get plain 48-octet replies.
  assert.equal(r.respond(request(), FROM, RX, reference(), () => TX)?.length, 48);
});

Deno.test("server auth: a long MAC right after an NTPv4 header is accepted (old chrony)", () => {
  const r = responder();
  const head = request(4);
  const req = new Uint8Array(48 + 68);
  req.set(head);
  new DataView(req.buffer).setUint32(48, 3);
  req.set(computeDigest(KEYS.get(3)!, head), 52);
  const out = r.respond(req, FROM, RX, reference(), () => TX);
  assert.ok(out !== null);
  assert.equal(out.length, 48 + 24, "NTPv4 reply: digest truncated to 20 octets");
  assert.equal(checkPacketAuth(out, KEYS).kind, "ok");
});

Deno.test("server auth: unknown key, wrong digest or crypto-NAK get no reply", () => {
  const r = responder();
  const wrongKey = appendMac(request(), OTHER.get(1)!);
  const unknown = appendMac(request(), {
    id: 99,
    type: "SHA1",
    value: new Uint8Array(20),
    line: 0,
  });
  const nak = new Uint8Array(52);
  nak.set(request());
  const truncated = appendMac(request(), KEYS.get(1)!).slice(0, 48 + 20);
  for (const req of [wrongKey, unknown, nak, truncated]) {
    assert.equal(r.respond(req, FROM, RX, reference(), () => TX), null);
  }
  assert.equal(r.stats.authFailed, 4);
  assert.equal(r.stats.replied, 0);
  // Without any keys, a MAC'd request is not answered either.
  const bare = new NtpResponder({ access: allowAll(), clientLog: null });
  assert.equal(
    bare.respond(appendMac(request(), KEYS.get(1)!), FROM, RX, reference(), () => TX),
    null,
  );
});
