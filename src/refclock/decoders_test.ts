import assert from "node:assert/strict";
import { decodeSockSample, encodeSockSample, SOCK_SAMPLE_SIZE } from "./sock_sample.ts";
import {
  checkShmSample,
  decodeShmTime,
  encodeShmTime,
  SHM_TIME_SIZE,
  type ShmTime,
} from "./shm_time.ts";

const T = 1_750_000_000_123_456_000n;

Deno.test("SOCK sample: round trip and refusals", () => {
  const s = { time: T, offset: -0.25, pulse: false, leap: 1 };
  assert.deepEqual(decodeSockSample(encodeSockSample(s)), s);
  const bad = encodeSockSample(s);
  bad[36] ^= 1;
  assert.equal(decodeSockSample(bad), null, "wrong magic");
  assert.equal(decodeSockSample(encodeSockSample(s).subarray(0, 39)), null, "short");
  const nan = encodeSockSample({ ...s, offset: Number.NaN });
  assert.equal(decodeSockSample(nan), null, "NaN offset");
});

Deno.test("SHM segment: ns fields used only when they agree with the us fields", () => {
  const t: ShmTime = {
    mode: 1,
    count: 3,
    clockTime: T + 500_000_000n,
    receiveTime: T,
    leap: 0,
    precision: -20,
    valid: 1,
  };
  const d = decodeShmTime(encodeShmTime(t))!;
  assert.equal(d.clockTime, t.clockTime);
  const r = checkShmSample(d, 3);
  assert.ok(r.ok && Math.abs(r.offset - 0.5) < 1e-9 && r.receiveTime === T);
  assert.deepEqual(checkShmSample(d, 4), { ok: false, reason: "count changed" });
  assert.ok(checkShmSample({ ...d, mode: 0 }, 99).ok, "mode 0 has no count check");
  assert.deepEqual(checkShmSample({ ...d, valid: 0 }, 3), { ok: false, reason: "not valid" });
  assert.deepEqual(checkShmSample({ ...d, mode: 2 }, 3), { ok: false, reason: "mode 2" });
  const bytes = encodeShmTime(t);
  new DataView(bytes.buffer).setInt32(52, 7, true); // clock ns disagree with us
  assert.equal(decodeShmTime(bytes)!.clockTime, T + 500_000_000n - 0n);
});

Deno.test("decoders fuzz: random and mutated bytes never throw", () => {
  let seed = 1;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const sock = encodeSockSample({ time: T, offset: 0.1, pulse: false, leap: 0 });
  const shm = encodeShmTime({
    mode: 1,
    count: 1,
    clockTime: T,
    receiveTime: T,
    leap: 0,
    precision: -1,
    valid: 1,
  });
  for (let i = 0; i < 5000; i++) {
    const base = i % 2 === 0 ? sock : shm;
    const b = rnd() < 0.3
      ? crypto.getRandomValues(new Uint8Array(Math.floor(rnd() * 120)))
      : base.slice();
    for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
      if (b.length > 0) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    }
    const s = decodeSockSample(b);
    if (s !== null) {
      assert.equal(b.length, SOCK_SAMPLE_SIZE);
      assert.ok(Number.isFinite(s.offset));
    }
    const t = decodeShmTime(b);
    if (b.length < SHM_TIME_SIZE) assert.equal(t, null);
    const r = checkShmSample(t, t?.count ?? 0);
    if (r.ok) assert.ok(Number.isFinite(r.offset));
  }
});
