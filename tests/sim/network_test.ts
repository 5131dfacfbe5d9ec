import assert from "node:assert/strict";
import { runNetworkScenario } from "../../src/sim/network_scenario.ts";
import { tempusNodeEngine } from "../../src/sim/tempus_engine.ts";

Deno.test("network: engines serve their strata up a 3-stratum tree to 2 clients", () => {
  const r = runNetworkScenario({
    name: "tree",
    duration: 3000,
    strata: 3,
    serversPerStratum: 2,
    clients: 2,
    limits: { maxSyncTime: 1000, minSyncTime: 0 },
  }, tempusNodeEngine);
  assert.deepEqual(r.hosts.map((h) => h.stratum), [2, 2, 3, 3, 4, 4]);
  assert.ok(r.hosts.every((h) => h.synchronised));
  // Root delay accumulates up the tree (about 200-400 µs per hop here).
  assert.ok(
    r.hosts[4].rootDelay > r.hosts[2].rootDelay && r.hosts[2].rootDelay > r.hosts[0].rootDelay,
  );
  assert.equal(r.clientResults.length, 2);
  assert.deepEqual(r.failures, [], JSON.stringify(r.metrics));
  assert.ok(r.serverRequests > 0 && r.transport.received > 0);
});
