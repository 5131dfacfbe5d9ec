/**
 * The responder's stateless symmetric passive answers (mode 1 in, mode 2 out): what they
 * carry, where access rules forbid them, and a fuzz run over random and mutated mode-1
 * packets (never a throw, never a reply longer than the request, nothing kept per sender
 * beyond the bounded client log).
 */
import assert from "node:assert/strict";
import { appendMac } from "../ntp/auth.ts";
import { KeyStore, type SymmetricKey } from "../ntp/keyfile.ts";
import { decodePacket, emptyPacket, encodePacket } from "../ntp/packet.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";
import { instantToNtp64 } from "../ntp/timestamp.ts";
import { AccessTable } from "./access.ts";
import { ClientLog } from "./client_log.ts";
import { NtpResponder } from "./server.ts";
import { addSeconds, instantFromParts } from "../base/time.ts";
import type { ReferenceState } from "./types.ts";

const RX = instantFromParts(1_763_900_000, 500_000_000);
const TX = addSeconds(RX, 0.00002);
const REF: ReferenceState = {
  synchronised: true,
  leap: 0,
  stratum: 3,
  refId: 0xc0000201,
  refTime: addSeconds(RX, -30),
  rootDelay: 0.01,
  rootDispersion: 0.002,
  dispersionRate: 1e-6,
  precisionLog2: -22,
};

function activePacket(): Uint8Array {
  const p = emptyPacket(1);
  p.stratum = 4;
  p.poll = 6;
  p.originTime = 0x1111n;
  p.receiveTime = 0x2222n;
  p.transmitTime = 0xe5b0_0000_1234_5678n;
  return encodePacket(p);
}

Deno.test("passive answer: mode 2 to a mode 1 packet, echoing its transmit timestamp", () => {
  const r = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "all", all: true }]),
    clientLog: null,
  });
  const out = r.respond(activePacket(), { address: "198.51.100.9", port: 123 }, RX, REF, () => TX);
  assert.ok(out !== null);
  const d = decodePacket(out);
  assert.ok(d.ok);
  assert.equal(d.packet.mode, 2);
  assert.equal(d.packet.stratum, 3);
  assert.equal(d.packet.originTime, 0xe5b0_0000_1234_5678n);
  // chrony's interleaved-mode flag: receive timestamps end in 1, transmit timestamps in 0.
  assert.equal(d.packet.receiveTime, instantToNtp64(RX) | 1n);
  assert.equal(d.packet.transmitTime, instantToNtp64(TX) & ~1n);
  assert.equal(r.stats.replied, 1);
});

Deno.test("passive answer: only with a key that verifies, signed with it", () => {
  const key: SymmetricKey = {
    id: 4,
    type: "SHA1",
    value: new TextEncoder().encode("peerkey-0123"),
    line: 0,
  };
  const r = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "all", all: true }]),
    clientLog: null,
    keys: new KeyStore([key]),
  });
  const from = { address: "198.51.100.9", port: 123 };
  const signed = appendMac(activePacket(), key);
  const out = r.respond(signed, from, RX, REF, () => TX);
  assert.ok(out !== null && out.length === signed.length);
  const wrong = appendMac(activePacket(), {
    ...key,
    value: new TextEncoder().encode("another-key!"),
  });
  assert.equal(r.respond(wrong, from, RX, REF, () => TX), null);
  assert.equal(r.stats.authFailed, 1);
});

Deno.test("passive answer: 100 000 random and mutated mode-1 packets from strangers", () => {
  const rnd = seededRandom(1401);
  const log = new ClientLog({
    limitBytes: 4096,
    ntpRateLimit: { interval: -2, burst: 4, leak: 2, kod: 0 },
    random: seededRandom(3),
  });
  const r = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "10.0.0.0/8", all: false }]),
    clientLog: log,
  });
  const base = activePacket();
  let replies = 0;
  for (let i = 0; i < 100_000; i++) {
    let req: Uint8Array;
    if (i % 4 === 0) {
      req = randomBytes(rnd, new Uint8Array(Math.floor(rnd() * 140)));
      if (req.length > 0) req[0] = (req[0] & 0xf8) | 1;
    } else {
      req = new Uint8Array(48 + 4 * Math.floor(rnd() * 12));
      req.set(base);
      for (let j = 48; j < req.length; j++) req[j] = Math.floor(rnd() * 256);
      for (let f = 0; f < 1 + Math.floor(rnd() * 3); f++) {
        req[1 + Math.floor(rnd() * (req.length - 1))] ^= 1 << Math.floor(rnd() * 8);
      }
    }
    // Half the senders are outside the allowed subnet: never answered.
    const inside = i % 2 === 0;
    const from = {
      address: inside ? `10.${i & 255}.${(i >> 8) & 255}.1` : `203.0.${i & 255}.${(i >> 8) & 255}`,
      port: 123,
    };
    const out = r.respond(req, from, addSeconds(RX, i * 0.001), REF, () => TX);
    if (out === null) continue;
    replies++;
    assert.ok(inside, "an address the access rules deny got an answer");
    assert.ok(out.length <= req.length, `reply ${out.length} > request ${req.length}`);
    assert.equal(out[0] & 7, (req[0] & 7) === 1 ? 2 : 4);
  }
  assert.ok(replies > 1_000, `only ${replies} answers`);
  assert.ok(log.size <= log.capacity, "per-sender state stays within the client log's bound");
});
