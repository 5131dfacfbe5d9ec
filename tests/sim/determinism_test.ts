import assert from "node:assert/strict";
import { basicScenarios, productScenarios } from "../../src/sim/catalog.ts";
import { runScenario } from "../../src/sim/scenario.ts";
import { tempusEngine } from "../../src/sim/tempus_engine.ts";

Deno.test("determinism: the same scenario gives identical records, whatever ran before", () => {
  const entry = basicScenarios().find((e) => e.id === "001-defaults");
  const other = productScenarios().find((e) => e.id === "P3-rate-jump");
  if (!entry || !other) throw new Error("catalogue changed");
  const a = runScenario(entry.spec, tempusEngine);
  runScenario(other.spec, tempusEngine); // engine state must not leak between instances
  const b = runScenario(entry.spec, tempusEngine);
  assert.deepEqual(b.metrics, a.metrics);
  assert.equal(b.transport.sent, a.transport.sent);
  assert.deepEqual(b.log, a.log);
  assert.ok(b.offsets.every((x, i) => x === a.offsets[i]), "per-second offsets identical");
  const c = runScenario({ ...entry.spec, seed: 99 }, tempusEngine);
  assert.notEqual(c.metrics.rmsOffset, a.metrics.rmsOffset, "the seed matters");
});
