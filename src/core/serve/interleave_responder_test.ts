import assert from "node:assert/strict";
import { seededRandom } from "../../../tests/helpers/random.ts";
import { decodePacket, emptyPacket, encodePacket } from "../../ntp/packet.ts";
import { instantToNtp64 } from "../../ntp/timestamp.ts";
import { AccessTable } from "../access.ts";
import { ClientLog } from "../client_log.ts";
import { isInterleavedRequest, NtpResponder } from "../server.ts";
import type { ReferenceState } from "../types.ts";

const T0 = 1_764_000_000_000_000_000n;
const REF: ReferenceState = {
  synchronised: true,
  leap: 0,
  stratum: 2,
  refId: 1,
  refTime: T0,
  rootDelay: 0,
  rootDispersion: 0,
  dispersionRate: 0,
  precisionLog2: -24,
};
const A = { address: "192.0.2.1", port: 40000 };

function responder(limitBytes?: number): { r: NtpResponder; log: ClientLog } {
  const log = new ClientLog({ random: seededRandom(1), limitBytes });
  const r = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "all", all: false }]),
    clientLog: log,
  });
  return { r, log };
}

function request(origin: bigint, receive: bigint, transmit: bigint, version = 4): Uint8Array {
  const p = emptyPacket(3);
  p.version = version;
  p.originTime = origin;
  p.receiveTime = receive;
  p.transmitTime = transmit;
  return encodePacket(p);
}

function reply(bytes: Uint8Array | null) {
  assert.ok(bytes !== null);
  const d = decodePacket(bytes);
  assert.ok(d.ok);
  return d.packet;
}

Deno.test("server xleave: flag bits, a saved reply, then an interleaved reply with its kernel TX", () => {
  const { r, log } = responder();
  const store = log.txTimestamps!;
  // A basic request (origin 0): answered basic, nothing saved; receive ends in 1.
  const p1 = reply(r.respond(request(0n, 0n, 0xaan), A, T0, REF, () => T0 + 10_000n));
  assert.equal(p1.receiveTime & 1n, 1n);
  assert.equal(p1.transmitTime & 1n, 0n);
  assert.equal(r.savedRxKey, null);
  // Interleaved form naming an unknown receive timestamp: basic reply, saved.
  const rx2 = T0 + 1_000_000_000n;
  const p2 = reply(
    r.respond(request(p1.receiveTime, 0x77n, 0xbbn), A, rx2, REF, () => rx2 + 10_000n),
  );
  assert.equal(p2.originTime, 0xbbn);
  assert.equal(r.savedRxKey, p2.receiveTime);
  assert.ok(store.updateTx(p2.receiveTime, rx2 + 60_000n), "kernel TX 50 µs after the daemon's");
  // Naming reply 2: interleaved, origin = its receive field, transmit = reply 2's kernel TX.
  const rx3 = T0 + 2_000_000_000n;
  const p3 = reply(
    r.respond(request(p2.receiveTime, 0x99n, 0xccn), A, rx3, REF, () => rx3 + 10_000n),
  );
  assert.equal(p3.originTime, 0x99n);
  assert.equal(p3.transmitTime, instantToNtp64(rx2 + 60_000n) & ~1n);
  assert.equal(p3.receiveTime, instantToNtp64(rx3) | 1n);
  assert.equal(log.serverStats().ntpInterleavedHits, 1);
  // The same origin again: basic (a transmit time is handed out once).
  const p4 = reply(
    r.respond(request(p2.receiveTime, 0x98n, 0xcdn), A, rx3 + 5n, REF, () => rx3 + 9n),
  );
  assert.equal(p4.originTime, 0xcdn);
  // From another address, naming reply 3: basic.
  const p5 = reply(
    r.respond(
      request(p3.receiveTime, 0x97n, 0xcen),
      { address: "192.0.2.2", port: 1 },
      rx3 + 7n,
      REF,
      () => rx3 + 8n,
    ),
  );
  assert.equal(p5.originTime, 0xcen);
});

Deno.test("server xleave: which requests may go on interleaved", () => {
  assert.ok(isInterleavedRequest(request(3n, 1n, 2n), 4));
  assert.ok(!isInterleavedRequest(request(2n, 1n, 2n), 4), "origin ends in 0");
  assert.ok(!isInterleavedRequest(request(3n, 2n, 2n), 4), "receive == transmit");
  assert.ok(!isInterleavedRequest(request(3n, 1n, 2n, 3), 3), "NTPv3");
  const { r } = responder();
  r.respond(request(3n, 1n, 2n, 3), A, T0, REF, () => T0);
  assert.equal(r.savedRxKey, null);
  const noLog = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "all", all: false }]),
    clientLog: null,
  });
  noLog.respond(request(3n, 1n, 2n), A, T0, REF, () => T0);
  assert.equal(noLog.savedRxKey, null, "noclientlog: no interleaved mode (chrony)");
});

Deno.test("server xleave fuzz: random requests never throw, replies never longer, store bounded", () => {
  const rnd = seededRandom(4242);
  const { r, log } = responder(16 * 128);
  const store = log.txTimestamps!;
  const keys: bigint[] = [];
  for (let i = 0; i < 20_000; i++) {
    const len = 48 + 4 * Math.floor(rnd() * 8);
    const req = Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256));
    req[0] = (req[0] & 0xc0) | (4 << 3) | 3;
    if (keys.length > 0 && rnd() < 0.5) {
      const k = keys[Math.floor(rnd() * keys.length)];
      new DataView(req.buffer).setBigUint64(24, k);
    }
    req[31] |= 1;
    const t = T0 + BigInt(i) * 1_000_000n;
    const from = { address: `192.0.2.${1 + Math.floor(rnd() * 4)}`, port: 1 };
    const out = r.respond(req, from, t, REF, () => t + 1000n);
    if (out !== null) {
      assert.ok(out.length <= req.length);
      if (r.savedRxKey !== null) {
        keys.push(r.savedRxKey);
        if (keys.length > 64) keys.shift();
        store.updateTx(r.savedRxKey, t + BigInt(Math.floor(rnd() * 3e9)));
      }
    }
    assert.ok(store.size <= store.capacity && store.capacity === 16);
  }
  assert.ok(store.stats.interleavedHits > 0);
});
