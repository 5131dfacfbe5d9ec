import assert from "node:assert/strict";
import type { ReferenceState } from "../types.ts";
import {
  foldPulseOffset,
  lockedPulse,
  pulseEdgeOk,
  pulseSecond,
  unlockedPulse,
  unlockedPulseStratum,
} from "./refclock_pulse.ts";

const O = { rate: 1, width: 0, maxLockAge: 2, offset: 0 };
const S = 1_000_000_000n;

function ref(over: Partial<ReferenceState> = {}): ReferenceState {
  return {
    synchronised: true,
    leap: 0,
    stratum: 2,
    refId: 0x47505300,
    refTime: 100n * S,
    rootDelay: 1e-3,
    rootDispersion: 1e-3,
    dispersionRate: 1e-6,
    precisionLog2: -20,
    ...over,
  };
}

Deno.test("pulse: the offset folds into half a pulse interval either side", () => {
  assert.ok(Math.abs(foldPulseOffset(0.2, O) - -0.2) < 1e-12);
  assert.ok(Math.abs(foldPulseOffset(0.7, O) - 0.3) < 1e-12);
  assert.ok(Math.abs(foldPulseOffset(-3.25, O) - 0.25) < 1e-12);
  assert.ok(Math.abs(foldPulseOffset(0.5, O) - -0.5) < 1e-12);
  // rate 4: a quarter-second interval; the offset option applies before the fold.
  assert.ok(Math.abs(foldPulseOffset(0.2, { rate: 4, offset: 0 }) - 0.05) < 1e-12);
  assert.ok(Math.abs(foldPulseOffset(0, { rate: 1, offset: 0.1 }) - 0.1) < 1e-12);
});

Deno.test("pulse: locked to a sample, aligned by whole seconds", () => {
  const lock = { time: 10n * S, offset: 3.1, dispersion: 0.01, leap: 1 as const };
  // The edge says the clock is 0.1 s behind a second boundary; the lock says 3.1 s behind.
  const r = lockedPulse(10n * S + S / 2n, -0.1, 1e-6, lock, O);
  assert.ok(r.ok);
  assert.ok(Math.abs(r.offset - 3.1) < 1e-9, `${r.offset}`);
  assert.equal(r.leap, 1);
  // No lock sample yet, too old a lock, a lock that disagrees by 0.35 s + its dispersion.
  assert.equal(lockedPulse(10n * S, -0.1, 1e-6, null, O).ok, false);
  const old = lockedPulse(12n * S, -0.1, 1e-6, lock, O);
  assert.ok(!old.ok && /old/.test(old.reason));
  const far = lockedPulse(10n * S, -0.1, 1e-6, { ...lock, offset: 3.45, dispersion: 0.06 }, O);
  assert.ok(!far.ok && /off its lock/.test(far.reason));
  // maxlockage 5 keeps a 3 s old lock usable.
  assert.ok(lockedPulse(13n * S, -0.1, 1e-6, lock, { ...O, maxLockAge: 5 }).ok);
});

Deno.test("pulse: width rejects the wrong edge", () => {
  assert.ok(pulseEdgeOk({ rate: 1, width: 0 }, 0.45, 0));
  assert.ok(pulseEdgeOk({ rate: 1, width: 0.2 }, 0.09, 0));
  assert.equal(pulseEdgeOk({ rate: 1, width: 0.2 }, 0.11, 0), false);
  assert.equal(pulseEdgeOk({ rate: 1, width: 0.9 }, 0.06, 0), false);
  const lock = { time: 10n * S, offset: 0.15, dispersion: 0, leap: 0 as const };
  const r = lockedPulse(10n * S, 0, 0, lock, { ...O, width: 0.2 });
  assert.ok(!r.ok && /edge/.test(r.reason));
});

Deno.test("pulse: without a lock only a synchronised clock gives the seconds", () => {
  const good = unlockedPulse(0.25, ref(), 101n * S, O);
  assert.ok(good.ok && Math.abs(good.offset - -0.25) < 1e-12);
  const unsync = unlockedPulse(0.25, ref({ leap: 3, synchronised: false }), 101n * S, O);
  assert.ok(!unsync.ok && unsync.dropFilter);
  const far = unlockedPulse(0.25, ref({ rootDispersion: 0.6 }), 101n * S, O);
  assert.ok(!far.ok && /root distance/.test(far.reason));
  // The distance grows with the time since the reference time.
  const late = unlockedPulse(0.25, ref({ dispersionRate: 1e-3 }), 700n * S, O);
  assert.equal(late.ok, false);
});

Deno.test("pulse: chrony's pps_stratum", () => {
  const own = 0x50505330;
  assert.equal(unlockedPulseStratum(ref({ refId: own, stratum: 2 }), own, () => false), 1);
  assert.equal(unlockedPulseStratum(ref({ stratum: 3 }), own, () => false), 0);
  assert.equal(unlockedPulseStratum(ref({ stratum: 3 }), own, () => true), 2);
  // The local reference (not synchronised, leap not alarm) keeps its stratum.
  const local = ref({ synchronised: false, leap: 0, stratum: 10, refId: 0x7f7f0101 });
  assert.equal(unlockedPulseStratum(local, own, () => false), 9);
  // tempus's local reference says synchronised, with the refid 127.127.1.1.
  const tempusLocal = ref({ synchronised: true, stratum: 10, refId: 0x7f7f0101 });
  assert.equal(unlockedPulseStratum(tempusLocal, own, () => false), 9);
});

Deno.test("pulse: the pps option's second is the system minus the device sub-second", () => {
  assert.ok(Math.abs(pulseSecond(5n * S + 300_000_000n, 0.1) - -0.1) < 1e-9);
  assert.ok(Math.abs(pulseSecond(5n * S + 950_000_000n, 0.1) - 0.9) < 1e-9);
  assert.ok(Math.abs(pulseSecond(-S / 4n, 0) - 0) < 1e-9);
});

Deno.test("pulse fuzz: random inputs never throw and results are finite", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 5000; i++) {
    const second = (rnd() - 0.5) * 10 ** (rnd() * 12 - 3);
    const o = { rate: 1 + Math.floor(rnd() * 10), width: rnd() * 0.5, maxLockAge: 2, offset: 0 };
    const t = BigInt(Math.floor(rnd() * 1e12));
    const lock = { time: t, offset: (rnd() - 0.5) * 100, dispersion: rnd(), leap: 0 as const };
    for (const r of [lockedPulse(t, second, rnd(), lock, o), unlockedPulse(second, ref(), t, o)]) {
      if (r.ok) {
        assert.ok(Number.isFinite(r.offset));
      } else assert.equal(typeof r.reason, "string");
    }
  }
});
