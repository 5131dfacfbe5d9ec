/**
 * Holdover (issue 12), in the simulator: when every source stops answering, the reference,
 * its leap status and stratum survive with a root dispersion growing at the clock's error
 * bound, as chrony's; only a lost majority sets the reference unsynchronised.
 */
import assert from "node:assert/strict";
import type { Engine } from "../../src/core/engine/engine.ts";
import type { TrackingReport } from "../../src/core/reports.ts";
import type { ReferenceState } from "../../src/core/types.ts";
import { defaultConfig } from "../../src/config/defaults.ts";
import { runScenario, type ScenarioAction, type SimServerConfig } from "../../src/sim/scenario.ts";
import { tempusEngine } from "../../src/sim/tempus_engine.ts";

interface Probe {
  t: number;
  now: bigint;
  tracking: TrackingReport;
  state: ReferenceState;
}

/** Actions that record tracking and the served reference state at each of `times`. */
function probes(times: number[], into: Probe[]): ScenarioAction[] {
  return times.map((at) => ({
    at,
    run: (ctx) => {
      const e = ctx.engine as Engine;
      into.push({
        t: ctx.seconds(),
        now: e.clock.cookedNow(),
        tracking: e.tracking(),
        state: e.referenceState(),
      });
    },
  }));
}

const OUTAGE_START = 2000;
const OUTAGE_END = 5200;

Deno.test("holdover: an outage of 50 polls keeps the reference; root dispersion grows at the error bound", () => {
  const seen: Probe[] = [];
  const times = [1900, 2600, 3200, 4000, 5100, 6400];
  const maxClockError = defaultConfig().maxClockError;
  const r = runScenario({
    name: "holdover outage",
    duration: 6500,
    sourceParams: { minPoll: 6, maxPoll: 6 },
    servers: [{
      path: { drop: (t) => t >= OUTAGE_START && t < OUTAGE_END },
    }],
    watch: ["no selectable sources", "Selected source"],
    actions: probes(times, seen),
  }, tempusEngine);
  assert.equal(seen.length, times.length);
  const before = seen[0];
  assert.equal(before.tracking.synchronised, true, "synchronised before the outage");
  assert.ok(
    r.logCounts["no selectable sources"] >= 1,
    "the source was lost during the outage (unselected)",
  );
  const inside = seen.filter((p) => p.t > OUTAGE_START && p.t < OUTAGE_END);
  assert.equal(inside.length, 4);
  for (const p of inside) {
    assert.equal(p.tracking.synchronised, true, `tracking synchronised at ${p.t} s`);
    assert.equal(p.tracking.stratum, 2, `stratum kept at ${p.t} s`);
    assert.equal(p.tracking.leapStatus, 0, `leap kept at ${p.t} s`);
    assert.equal(p.tracking.refId, before.tracking.refId, `reference kept at ${p.t} s`);
    assert.equal(p.state.synchronised, true, `served as synchronised at ${p.t} s`);
    assert.equal(p.state.leap, 0);
    assert.equal(p.state.stratum, 2);
  }
  // Root dispersion grows at (skew + |residual frequency| + maxclockerror) from the last
  // update; without updates those figures stay put, so the rate is checked between probes.
  const first = inside[0].tracking;
  const rate = (first.skewPpm + Math.abs(first.residualFreqPpm) + maxClockError) * 1e-6;
  for (let i = 1; i < inside.length; i++) {
    const a = inside[i - 1];
    const b = inside[i];
    assert.equal(b.tracking.refTime, first.refTime, "no reference update during the outage");
    const grown = b.tracking.rootDispersion - a.tracking.rootDispersion;
    const expected = (b.t - a.t) * rate;
    assert.ok(
      Math.abs(grown - expected) < 1e-6 * expected,
      `grew ${grown} s over ${b.t - a.t} s, expected ${expected} s`,
    );
    assert.ok(b.tracking.rootDispersion > a.tracking.rootDispersion);
  }
  // The served state carries the same growth (the server adds rate x age at answer time).
  for (const p of inside) {
    const age = Number(p.now - p.state.refTime) / 1e9;
    const served = p.state.rootDispersion + age * p.state.dispersionRate;
    assert.ok(
      Math.abs(served - p.tracking.rootDispersion) < 1e-9,
      `served ${served} s, tracking ${p.tracking.rootDispersion} s`,
    );
  }
  // Back to normal after the outage, and the clock kept within 1 ms through it.
  const after = seen[seen.length - 1];
  assert.equal(after.tracking.synchronised, true);
  assert.ok(after.tracking.refTime > first.refTime, "updated again after the outage");
  assert.ok(r.metrics.maxOffset < 1e-3, `max offset ${r.metrics.maxOffset}`);
});

Deno.test("holdover ends with a lost majority: two of three sources turn falsetickers", () => {
  const seen: Probe[] = [];
  const servers: SimServerConfig[] = [{}, {}, {}];
  const turn: ScenarioAction = {
    at: 2000,
    run: () => {
      servers[1].offset = 1;
      servers[2].offset = 2;
    },
  };
  runScenario({
    name: "lost majority",
    duration: 4000,
    sourceParams: { minPoll: 6, maxPoll: 6 },
    servers,
    watch: ["no majority"],
    actions: [turn, ...probes([1900, 3900], seen)],
  }, tempusEngine);
  assert.equal(seen[0].tracking.synchronised, true, "synchronised to three agreeing sources");
  assert.equal(seen[0].state.synchronised, true);
  const end = seen[1];
  assert.equal(end.tracking.synchronised, false, "a lost majority unsynchronises");
  assert.equal(end.tracking.leapStatus, 3);
  assert.equal(end.state.synchronised, false, "served as unsynchronised");
  assert.equal(end.state.leap, 3);
  assert.equal(end.state.stratum, 16);
});
