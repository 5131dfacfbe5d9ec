import assert from "node:assert/strict";
import { parseKeyFile } from "../../ntp/keyfile.ts";
import { seededRandom } from "../../../tests/helpers/random.ts";
import { buildBroadcastPacket } from "../broadcast_server.ts";
import type { ReferenceState } from "../types.ts";
import {
  type BroadcastMeasureContext,
  checkBroadcast,
  measureBroadcast,
} from "./broadcast_measure.ts";
import { TestBit } from "./measure.ts";

const KEYS = parseKeyFile("1 SHA1 HEX:1234567890ABCDEF1234567890ABCDEF12345678\n").keys;
const T = 1_800_000_000_000_000_000n;

const SERVER: ReferenceState = {
  synchronised: true,
  leap: 0,
  stratum: 1,
  refId: 0x47505300,
  refTime: T - 1_000_000_000n,
  rootDelay: 0,
  rootDispersion: 0,
  dispersionRate: 0,
  precisionLog2: -20,
};

function ctx(over: Partial<BroadcastMeasureContext> = {}): BroadcastMeasureContext {
  return {
    keys: KEYS,
    unauthenticated: false,
    lastRemoteTx: null,
    roundTripDelay: 0.002,
    delaySpread: 0,
    localPrecision: 1e-7,
    offsetCorrection: 0,
    reference: null,
    ...over,
  };
}

Deno.test("measureBroadcast: offset = server transmit + half the round trip - local receive", () => {
  // Sent at T, arriving 1 ms later on a clock 5 ms behind: received at T + 1 ms - 5 ms.
  const bytes = buildBroadcastPacket(SERVER, 16, KEYS.get(1), () => T);
  const rx = T + 1_000_000n - 5_000_000n;
  const v = measureBroadcast(bytes, rx, ctx());
  assert.equal(v.kind, "valid");
  if (v.kind !== "valid") return;
  assert.equal(v.rejection, null);
  assert.ok(Math.abs(v.sample.offset - 0.005) < 1e-6, `${v.sample.offset}`);
  assert.equal(v.sample.time, rx);
  assert.equal(v.sample.peerDelay, 0.002);
  assert.equal(v.sample.stratum, 1);
  assert.equal(v.tests & TestBit.T5, TestBit.T5);
});

Deno.test("measureBroadcast: no MAC, wrong key, duplicate, unsynchronised, sync loop", () => {
  const plain = buildBroadcastPacket(SERVER, 16, null, () => T);
  const noMac = measureBroadcast(plain, T, ctx());
  assert.equal(noMac.kind === "invalid" && noMac.reason, "authentication");
  assert.equal(measureBroadcast(plain, T, ctx({ unauthenticated: true })).kind, "valid");
  const other = parseKeyFile("1 SHA1 HEX:0000000000000000000000000000000000000001\n").keys;
  const wrong = buildBroadcastPacket(SERVER, 16, other.get(1), () => T);
  const w = measureBroadcast(wrong, T, ctx({ unauthenticated: true }));
  assert.equal(w.kind === "invalid" && w.reason, "authentication"); // a bad MAC never passes
  const signed = buildBroadcastPacket(SERVER, 16, KEYS.get(1), () => T);
  const first = measureBroadcast(signed, T, ctx());
  assert.equal(first.kind, "valid");
  const tx = first.kind === "valid" ? first.packet.transmitTime : 0n;
  const dup = measureBroadcast(signed, T, ctx({ lastRemoteTx: tx }));
  assert.equal(dup.kind === "invalid" && dup.reason, "duplicate");
  // A recorded older broadcast, validly signed, replayed after a newer one: refused too.
  const newer = buildBroadcastPacket(SERVER, 16, KEYS.get(1), () => T + 16_000_000_000n);
  const n = measureBroadcast(newer, T + 16_000_000_000n, ctx({ lastRemoteTx: tx }));
  assert.equal(n.kind, "valid");
  const newerTx = n.kind === "valid" ? n.packet.transmitTime : 0n;
  const replay = measureBroadcast(signed, T + 17_000_000_000n, ctx({ lastRemoteTx: newerTx }));
  assert.equal(replay.kind === "invalid" && replay.reason, "duplicate");
  const unsync = buildBroadcastPacket({ ...SERVER, synchronised: false }, 16, KEYS.get(1), () => T);
  const u = measureBroadcast(unsync, T, ctx());
  assert.ok(u.kind === "valid" && !u.synced && u.rejection === "unsynchronised");
  const loop = buildBroadcastPacket(
    { ...SERVER, stratum: 3, refId: 0x0a000001 },
    16,
    KEYS.get(1),
    () => T,
  );
  const l = measureBroadcast(loop, T, ctx({ localRefId: 0x0a000001 }));
  assert.ok(l.kind === "valid" && l.rejection === "sync-loop");
});

Deno.test("measureBroadcast fuzz: random and mutated datagrams never throw", () => {
  const rnd = seededRandom(99);
  const good = buildBroadcastPacket(SERVER, 16, KEYS.get(1), () => T);
  let valid = 0;
  for (let i = 0; i < 20_000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = new Uint8Array(Math.floor(rnd() * 200));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
    } else {
      bytes = good.slice(0, Math.max(0, good.length - Math.floor(rnd() * 8)));
      const k = Math.floor(rnd() * bytes.length);
      if (bytes.length > 0) bytes[k] ^= 1 << Math.floor(rnd() * 8);
    }
    for (const unauthenticated of [false, true]) {
      const v = measureBroadcast(bytes, T, ctx({ unauthenticated }));
      if (v.kind === "valid") {
        valid++;
        assert.ok(Number.isFinite(v.sample.offset));
        // Signed-mode acceptance needs the MAC: only exact MAC-verified bytes pass.
        if (!unauthenticated) assert.equal(checkBroadcast(bytes, ctx()).ok, true);
      }
    }
  }
  // A flipped bit in a signed packet breaks its MAC; without MAC checking some pass.
  assert.ok(valid < 20_000);
});
