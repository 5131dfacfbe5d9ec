/**
 * A leap smear in the simulator: the engine of chrony's 113 scenario (a leap second inserted,
 * leapsecmode slew, maxslewrate 1000) with `smoothtime 400 0.001024 leaponly` on the time it
 * would serve. The served time must not jump at the leap, the smoothing frequency must stay
 * within 32 ppm, and it must be back on UTC after the documented
 * 62 500 s; half way it is 0.5 s ahead. The engine's own corrections (not smoothed with
 * leaponly) pass through unchanged, as in chrony.
 */
import assert from "node:assert/strict";
import { Engine } from "../../src/core/engine/engine.ts";
import { Smoother } from "../../src/core/smoothing.ts";
import { allScenarios } from "../../src/sim/catalog.ts";
import { runScenario, type ScenarioContext } from "../../src/sim/scenario.ts";
import { SIM_CLOCK_PRECISION } from "../../src/sim/tempus_engine.ts";

Deno.test("leap smear (smoothtime 400 0.001024 leaponly): continuous, ≤ 32 ppm, done in 62 500 s", () => {
  const entry = allScenarios().find((e) => e.id === "113-leapsecond slew");
  assert.ok(entry, "scenario 113-leapsecond slew");
  const spec = entry.spec;
  const leap = spec.leapAt!;
  assert.ok(spec.duration >= leap + 62_500 + 1000, `duration ${spec.duration}`);
  let engine: Engine | null = null;
  const smoother = new Smoother({ maxFreqPpm: 400, maxWanderPpm: 0.001024, leapOnly: true });
  const samples: { t: number; served: number }[] = []; // served minus UTC, s
  let maxJump = 0;
  let maxRate = 0;
  let prev: { t: bigint; served: bigint; o: number } | null = null;
  let leapJump = NaN;
  const install = (ctx: ScenarioContext) => {
    const eng = engine!;
    eng.clock.addObserver((c) => smoother.applyClockChange(c));
    const tick = () => {
      const now = eng.clock.cookedNow();
      smoother.observeLeap(now, eng.tracking().leapStatus);
      const served = smoother.serve(now);
      const t = ctx.seconds();
      const utc = ctx.vt.now - (t >= leap ? 1_000_000_000n : 0n);
      samples.push({ t, served: Number(served - utc) / 1e9 });
      const o = Number(served - now) / 1e9; // the smoothing offset
      if (prev !== null) {
        const dt = Number(ctx.vt.now - prev.t) / 1e9;
        const jump = Number((served - prev.served) - (ctx.vt.now - prev.t)) / 1e9;
        if (prev.o < 0.5 && o > 0.5) {
          leapJump = jump; // across the leap: the served time goes on
        } else {
          maxRate = Math.max(maxRate, Math.abs(o - prev.o) / dt);
        }
        maxJump = Math.max(maxJump, Math.abs(jump));
      }
      prev = { t: ctx.vt.now, served, o };
      ctx.vt.scheduleIn(1_000_000_000n, tick);
    };
    tick();
  };
  runScenario(
    {
      ...spec,
      config: { ...spec.config, leapSecMode: "slew", maxSlewRate: 1000 },
      actions: [...(spec.actions ?? []), { at: leap - 3600, run: install }],
    },
    (cfg, deps, drift) => {
      engine = new Engine(cfg, deps, drift, { measurePrecision: () => SIM_CLOCK_PRECISION });
      return engine;
    },
  );
  const at = (t: number) => samples.reduce((b, s) => Math.abs(s.t - t) < Math.abs(b.t - t) ? s : b);
  const before = samples.filter((s) => s.t < leap);
  assert.ok(before.every((s) => Math.abs(s.served) < 1e-3), "on UTC before the leap");
  assert.ok(Math.abs(at(leap + 1).served - 1) < 1e-3, `just after: ${at(leap + 1).served}`);
  assert.ok(
    Math.abs(at(leap + 31_250).served - 0.5) < 2e-3,
    `half way: ${at(leap + 31_250).served}`,
  );
  const after = samples.filter((s) => s.t > leap + 62_600);
  assert.ok(after.length > 100 && after.every((s) => Math.abs(s.served) < 1e-3), "back on UTC");
  // Across the leap the served time moves on by 1 s per second (up to the engine's own
  // correction at that update); the smoothing offset never changes faster than 32 ppm.
  assert.ok(Math.abs(leapJump) < 1e-3, `served time across the leap moved ${leapJump} s extra`);
  assert.ok(maxRate <= 32.001e-6, `smoothing frequency ${maxRate}`);
  assert.ok(maxJump < 1e-3, `largest step of served time: ${maxJump} s`);
  console.log(
    `  leap smear: +${at(leap + 1).served.toFixed(6)} s after the leap, ` +
      `${at(leap + 31_250).served.toFixed(6)} s at 31 250 s, ` +
      `${at(leap + 62_600).served.toExponential(2)} s at 62 600 s; smoothing frequency ≤ ${
        (maxRate * 1e6).toFixed(3)
      } ppm; across the leap ${leapJump.toExponential(2)} s; largest 1-s step ${
        maxJump.toExponential(2)
      } s (the engine's own corrections)`,
  );
});
