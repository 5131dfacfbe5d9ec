import assert from "node:assert/strict";
import { runScenario } from "../../src/sim/scenario.ts";
import { tempusEngine } from "../../src/sim/tempus_engine.ts";

Deno.test("speed: a simulated day with three servers takes well under a few seconds", () => {
  const started = performance.now();
  const r = runScenario({
    name: "day",
    duration: 86_400,
    servers: [{}, {}, {}],
    sourceParams: { minPoll: 4, maxPoll: 6 },
  }, tempusEngine);
  const seconds = (performance.now() - started) / 1000;
  console.log(`  one simulated day: ${seconds.toFixed(2)} s, ${r.events} events`);
  assert.ok(r.transport.sent > 3000, `sent ${r.transport.sent}`);
  assert.ok(seconds < 5, `a simulated day took ${seconds.toFixed(2)} s`);
});
