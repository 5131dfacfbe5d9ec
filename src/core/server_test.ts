import assert from "node:assert/strict";
import { decodePacket, emptyPacket, encodePacket, refIdFromAscii } from "../ntp/packet.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";
import { instantToNtp64, ntp64ToInstant, secondsToNtpShort } from "../ntp/timestamp.ts";
import { AccessTable } from "./access.ts";
import { ClientLog } from "./client_log.ts";
import {
  KOD_RATE_REFID,
  NtpResponder,
  respond,
  rootDispersionAt,
  writeNtpTimestamp,
} from "./server.ts";
import { addSeconds, instantFromParts } from "../base/time.ts";
import type { ReferenceState } from "./types.ts";

const RX = instantFromParts(1_763_900_000, 123_456_789);
const TX = addSeconds(RX, 0.000_015);
const FROM = { address: "192.0.2.7", port: 40000 };

function reference(over: Partial<ReferenceState> = {}): ReferenceState {
  return {
    synchronised: true,
    leap: 0,
    stratum: 2,
    refId: 0xc0000201,
    refTime: addSeconds(RX, -100),
    rootDelay: 0.012,
    rootDispersion: 0.003,
    dispersionRate: 1e-5,
    precisionLog2: -24,
    ...over,
  };
}

function allowAll(): AccessTable {
  return new AccessTable([{ allow: true, subnet: "all", all: false }]);
}

function clientRequest(over: Partial<ReturnType<typeof emptyPacket>> = {}): Uint8Array {
  const p = emptyPacket(3);
  p.poll = 6;
  p.transmitTime = 0xdead_beef_0123_4567n;
  Object.assign(p, over);
  return encodePacket(p);
}

Deno.test("server: a normal reply carries every field", () => {
  const r = new NtpResponder({ access: allowAll(), clientLog: null });
  let txReads = 0;
  const req = clientRequest({ version: 3, poll: 10 });
  const out = r.respond(req, FROM, RX, reference({ leap: 1 }), () => {
    txReads++;
    return TX;
  });
  assert.ok(out !== null);
  assert.equal(out.length, 48);
  assert.equal(txReads, 1);
  const d = decodePacket(out);
  assert.ok(d.ok);
  const p = d.packet;
  assert.equal(p.leap, 1);
  assert.equal(p.version, 3);
  assert.equal(p.mode, 4);
  assert.equal(p.stratum, 2);
  assert.equal(p.poll, 10);
  assert.equal(p.precision, -24);
  assert.equal(p.refId, 0xc0000201);
  assert.equal(p.refTime, instantToNtp64(addSeconds(RX, -100)));
  assert.equal(p.originTime, 0xdead_beef_0123_4567n);
  assert.equal(p.receiveTime, instantToNtp64(RX));
  assert.equal(p.transmitTime, instantToNtp64(TX));
  assert.equal(ntp64ToInstant(p.transmitTime, RX), TX);
  assert.equal(out.subarray(4, 8).join(), u32(secondsToNtpShort(0.012)).join());
  // 3 ms + 1e-5 * 100 s = 4 ms.
  assert.equal(out.subarray(8, 12).join(), u32(secondsToNtpShort(0.004)).join());
  assert.equal(r.stats.replied, 1);
});

function u32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

Deno.test("server: unsynchronised means leap 3 and stratum 16", () => {
  const out = respond(
    clientRequest(),
    FROM,
    RX,
    reference({ synchronised: false, leap: 0, stratum: 3, refTime: 0n }),
    () => TX,
    { access: allowAll(), clientLog: null },
  );
  assert.ok(out !== null);
  const d = decodePacket(out);
  assert.ok(d.ok);
  assert.equal(d.packet.leap, 3);
  assert.equal(d.packet.stratum, 16);
  assert.equal(d.packet.refTime, 0n, "never-set ref time stays zero on the wire");
  const stale = respond(
    clientRequest(),
    FROM,
    RX,
    reference({ synchronised: false, rootDispersion: 2, dispersionRate: 1e-3 }),
    () => TX,
    { access: allowAll(), clientLog: null },
  );
  assert.ok(stale !== null);
  assert.equal(
    new DataView(stale.buffer).getUint32(8),
    secondsToNtpShort(2),
    "no growth on top of an unsynchronised reference's dispersion",
  );
});

Deno.test("server: rate limiting drops or sends KoD RATE", () => {
  const dropLog = new ClientLog({
    ntpRateLimit: { interval: 6, burst: 1, leak: 4, kod: 0 },
    random: () => 0.99,
  });
  const r1 = new NtpResponder({ access: allowAll(), clientLog: dropLog });
  assert.ok(r1.respond(clientRequest(), FROM, RX, reference(), () => TX) !== null);
  assert.equal(r1.respond(clientRequest(), FROM, addSeconds(RX, 1), reference(), () => TX), null);
  assert.equal(r1.stats.rateDropped, 1);

  const kodLog = new ClientLog({
    ntpRateLimit: { interval: 6, burst: 1, leak: 4, kod: 1 },
    random: () => 0.3, // no leak (needs < 1/16), KoD (needs < 1/2)
  });
  const r2 = new NtpResponder({ access: allowAll(), clientLog: kodLog });
  r2.respond(clientRequest(), FROM, RX, reference(), () => TX);
  const kod = r2.respond(
    clientRequest({ version: 2 }),
    FROM,
    addSeconds(RX, 1),
    reference(),
    () => TX,
  );
  assert.ok(kod !== null);
  const d = decodePacket(kod);
  assert.ok(d.ok);
  assert.equal(d.packet.leap, 3);
  assert.equal(d.packet.stratum, 0);
  assert.equal(d.packet.refId, KOD_RATE_REFID);
  assert.equal(KOD_RATE_REFID, refIdFromAscii("RATE"));
  assert.equal(d.packet.mode, 4);
  assert.equal(d.packet.version, 2);
  assert.equal(d.packet.originTime, 0xdead_beef_0123_4567n);
  assert.equal(r2.stats.kod, 1);
});

Deno.test("server: denied clients and non-client modes get nothing", () => {
  const access = new AccessTable([{ allow: true, subnet: "10.0.0.0/8", all: false }]);
  const r = new NtpResponder({ access, clientLog: null });
  assert.equal(r.respond(clientRequest(), FROM, RX, reference(), () => TX), null);
  assert.equal(r.stats.denied, 1);
  const ok = { address: "10.1.2.3", port: 123 };
  assert.ok(r.respond(clientRequest(), ok, RX, reference(), () => TX) !== null);
  for (const mode of [2, 4, 5]) {
    assert.equal(r.respond(clientRequest({ mode }), ok, RX, reference(), () => TX), null);
  }
  // A symmetric active packet from an allowed host: a stateless passive (mode 2) answer;
  // from a denied one, nothing.
  const passive = r.respond(clientRequest({ mode: 1 }), ok, RX, reference(), () => TX);
  assert.equal(passive === null ? null : passive[0] & 7, 2);
  assert.equal(r.respond(clientRequest({ mode: 1 }), FROM, RX, reference(), () => TX), null);
  for (const mode of [6, 7]) {
    const bytes = clientRequest();
    bytes[0] = (bytes[0] & 0xf8) | mode;
    assert.equal(r.respond(bytes, ok, RX, reference(), () => TX), null);
    assert.equal(r.respond(bytes.subarray(0, 12), ok, RX, reference(), () => TX), null);
  }
  assert.equal(r.stats.ignoredMode, 7);
  assert.equal(r.stats.denied, 2);
});

Deno.test("server: malformed requests get nothing", () => {
  const r = new NtpResponder({ access: allowAll(), clientLog: null });
  const good = clientRequest();
  const bad: Uint8Array[] = [
    new Uint8Array(0),
    good.subarray(0, 47),
    new Uint8Array([...good, 0, 0]), // not a multiple of 4
    new Uint8Array([
      ...good,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]),
  ];
  const v0 = good.slice();
  v0[0] = (0 << 3) | 3;
  const v5 = good.slice();
  v5[0] = (5 << 3) | 3;
  bad.push(v0, v5);
  for (const b of bad) assert.equal(r.respond(b, FROM, RX, reference(), () => TX), null);
  assert.equal(r.stats.malformed, bad.length);
});

Deno.test("server: extension fields are not echoed (reply <= request)", () => {
  const r = new NtpResponder({ access: allowAll(), clientLog: null });
  const withExt = clientRequest({ extensions: [{ type: 0x0104, value: new Uint8Array(32) }] });
  assert.ok(withExt.length > 48);
  const out = r.respond(withExt, FROM, RX, reference(), () => TX);
  assert.ok(out !== null);
  assert.equal(out.length, 48);
  // A MAC with a key we do not have gets no reply at all, as in chrony.
  const withMac = clientRequest({
    extensions: [{ type: 0x0104, value: new Uint8Array(32) }],
    mac: { keyId: 7, digest: new Uint8Array(16) },
  });
  assert.equal(r.respond(withMac, FROM, RX, reference(), () => TX), null);
  assert.equal(r.stats.authFailed, 1);
});

Deno.test("server: root dispersion grows with the age of the reference", () => {
  const ref = reference({ rootDispersion: 0.001, dispersionRate: 2e-6, refTime: RX });
  assert.equal(rootDispersionAt(ref, addSeconds(RX, 1000)), 0.001 + 2e-3);
  assert.equal(rootDispersionAt(ref, RX), 0.001);
  assert.equal(rootDispersionAt(reference({ refTime: 0n, rootDispersion: 5 }), RX), 5);
});

Deno.test("server: 100 000 random and mutated requests never throw, reply <= request", () => {
  const rnd = seededRandom(2026);
  const log = new ClientLog({
    limitBytes: 4096,
    ntpRateLimit: { interval: -2, burst: 4, leak: 2, kod: 1 },
    random: seededRandom(9),
  });
  const r = new NtpResponder({ access: allowAll(), clientLog: log });
  const base = clientRequest();
  let replies = 0;
  for (let i = 0; i < 100_000; i++) {
    let req: Uint8Array;
    const kind = i % 4;
    if (kind === 0) {
      req = randomBytes(rnd, new Uint8Array(Math.floor(rnd() * 120)));
    } else {
      const len = kind === 1 ? 48 : 48 + 4 * Math.floor(rnd() * 20) - (kind === 3 ? 1 : 0);
      req = new Uint8Array(Math.max(0, len));
      req.set(base.subarray(0, Math.min(48, req.length)));
      for (let j = 48; j < req.length; j++) req[j] = Math.floor(rnd() * 256);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips && req.length > 0; f++) {
        req[Math.floor(rnd() * req.length)] ^= 1 << Math.floor(rnd() * 8);
      }
    }
    const from = { address: `10.0.${i & 255}.${(i >> 8) & 255}`, port: 1 + (i & 0xfff) };
    const out = r.respond(req, from, addSeconds(RX, i * 0.001), reference(), () => TX);
    if (out !== null) {
      replies++;
      assert.ok(out.length <= req.length, `reply ${out.length} > request ${req.length}`);
      assert.equal(out[0] & 7, (req[0] & 7) === 1 ? 2 : 4);
    }
  }
  assert.ok(replies > 10_000, `only ${replies} replies`);
  assert.equal(r.stats.received, 100_000);
  assert.ok(log.size <= log.capacity);
});

Deno.test("server: the 48-octet fast path agrees with decodePacket", () => {
  const rnd = seededRandom(48);
  const r = new NtpResponder({ access: allowAll(), clientLog: null });
  for (let i = 0; i < 20_000; i++) {
    const req = randomBytes(rnd, new Uint8Array(48));
    const d = decodePacket(req);
    const expected = d.ok && (d.packet.mode === 3 || d.packet.mode === 1);
    const out = r.respond(req, FROM, RX, reference(), () => TX);
    assert.equal(out !== null, expected, `first octet 0x${req[0].toString(16)}`);
    if (out !== null && d.ok) {
      assert.equal((out[0] >> 3) & 7, d.packet.version);
      assert.equal(out[0] & 7, d.packet.mode === 1 ? 2 : 4);
    }
  }
});

Deno.test("writeNtpTimestamp writes exactly what instantToNtp64 gives (fuzz)", () => {
  const view = new DataView(new ArrayBuffer(8));
  let seed = 987654321;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const cases: bigint[] = [0n, -1n, 1n, 999_999_999n, 1_000_000_000n, -1_000_000_000n];
  for (let i = 0; i < 5000; i++) {
    const seconds = BigInt(Math.floor((rand() - 0.3) * 6e9));
    cases.push(seconds * 1_000_000_000n + BigInt(Math.floor(rand() * 1e9)));
    // Both sides of second boundaries, and of 2^32-ns steps (the fast path's split).
    const s = BigInt(Math.floor(rand() * 4.6e9)) * 1_000_000_000n;
    cases.push(s - 1n, s, s + 1n);
    const k = BigInt(Math.floor(rand() * 2 ** 30)) << 32n;
    cases.push(k - 1n, k, k + 1n);
  }
  cases.push((1n << 62n) - 1n, 1n << 62n, (1n << 62n) + 999_999_999n);
  for (const t of cases) {
    writeNtpTimestamp(view, 0, t);
    assert.equal(view.getBigUint64(0), instantToNtp64(t), `instant ${t}`);
  }
});
