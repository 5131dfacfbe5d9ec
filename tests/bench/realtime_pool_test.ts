import assert from "node:assert/strict";
import {
  formatPool,
  groupRuns,
  parseBenchOutput,
  parseRuns,
  parseRunTable,
  pooledInterval,
  pooledRatio,
} from "./realtime_pool.ts";

const OUTPUT = `Task bench:realtime deno run ...
# run 1/2 clean (60 s, seed 12349): LAN: 500 µs + 100 µs·Exp each way
#   relay packets (received/sent): chronyd: up 43/43 down 43/43 lost 0; tempus: up 73/73 down 73/73 lost 0
#   chronyd: RMS err 38.8 µs, max 62.9 µs, synced 100 %, load 0.5
#   tempus: RMS err 3.3 µs, max 7.1 µs, synced 100 %, load 0.5
# run 1/2 direct (60 s, seed 12349): no relay
#   relay packets (received/sent): none
#   chronyd: RMS err 2.0 µs, max 4.0 µs, synced 100 %, load 0.5
#   tempus: RMS err 3.0 µs, max 5.0 µs, synced 100 %, load 0.5
# run 2/2 clean (60 s, seed 12350): LAN
#   chronyd: RMS err 10.0 µs, max 20.0 µs, synced 100 %, load 0.5
`;

Deno.test("parseBenchOutput reads each run's errors and requests, and skips an unfinished run", () => {
  assert.deepEqual(parseBenchOutput(OUTPUT), [
    {
      scenario: "clean",
      seed: 12349,
      tempusRmsUs: 3.3,
      chronydRmsUs: 38.8,
      chronydRequests: 43,
      tempusRequests: 73,
    },
    { scenario: "direct", seed: 12349, tempusRmsUs: 3, chronydRmsUs: 2 },
  ]);
  assert.deepEqual(parseRuns(OUTPUT).length, 2);
});

Deno.test("parseRunTable reads runs with and without requests and rejects a bad line", () => {
  const table = "# comment\n\nclean 12345 9.9 7.9\nratejump\t12345\t49.5\t71.1\t117\t48\n";
  assert.deepEqual(parseRunTable(table), [
    { scenario: "clean", seed: 12345, tempusRmsUs: 9.9, chronydRmsUs: 7.9 },
    {
      scenario: "ratejump",
      seed: 12345,
      tempusRmsUs: 49.5,
      chronydRmsUs: 71.1,
      tempusRequests: 117,
      chronydRequests: 48,
    },
  ]);
  assert.throws(() => parseRunTable("clean 12345 9.9"), /line 1/);
  assert.throws(() => parseRunTable("clean 12345 1 2\nclean 1.5 9.9 7.9"), /line 2/);
  assert.throws(() => parseRunTable("clean 12345 9.9 -7.9"), /line 1/);
});

Deno.test("a scenario and seed counted twice is an error", () => {
  const run = { scenario: "clean", seed: 1, tempusRmsUs: 1, chronydRmsUs: 2 };
  assert.throws(() => groupRuns([run, { ...run }]), /clean seed 1 appears twice/);
  assert.deepEqual([...groupRuns([run, { ...run, seed: 2 }]).keys()], ["clean"]);
});

Deno.test("the pooled ratio is the RMS over every run's samples, and its interval holds it", () => {
  const runs = [
    { scenario: "a", seed: 1, tempusRmsUs: 3, chronydRmsUs: 4 },
    { scenario: "a", seed: 2, tempusRmsUs: 4, chronydRmsUs: 3 },
    { scenario: "a", seed: 3, tempusRmsUs: 1, chronydRmsUs: 10 },
  ];
  // sqrt((9 + 16 + 1) / (16 + 9 + 100))
  assert.deepEqual(pooledRatio(runs).toFixed(4), Math.sqrt(26 / 125).toFixed(4));
  const [low, high] = pooledInterval(runs);
  assert.ok(low <= pooledRatio(runs) && pooledRatio(runs) <= high);
  assert.ok(low >= 0.1 - 1e-12 && high <= 4 / 3 + 1e-12);
  assert.deepEqual(pooledInterval(runs), pooledInterval(runs));
});

Deno.test("formatPool gives one row per scenario with the verdict against 0.8", () => {
  const runs = [1, 2, 3, 4].map((seed) => ({
    scenario: "clean",
    seed,
    tempusRmsUs: 5 + seed / 10,
    chronydRmsUs: 10,
    tempusRequests: 60,
    chronydRequests: 40,
  }));
  const rows = formatPool(runs).split("\n");
  assert.deepEqual(rows.length, 3);
  assert.ok(rows[2].startsWith("| clean | 4 | 1–4 | 0.53 | gm 0.52"));
  assert.ok(rows[2].includes("| met |"));
  assert.ok(rows[2].endsWith("| 1.50× |"));
  const mixed = formatPool([...runs, {
    scenario: "clean",
    seed: 5,
    tempusRmsUs: 1,
    chronydRmsUs: 2,
  }]);
  assert.ok(mixed.split("\n")[2].endsWith("| 1.50× (4 runs) |"));
});
