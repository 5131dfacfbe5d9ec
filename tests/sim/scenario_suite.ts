/**
 * Registers one Deno test per catalogued scenario, running tempus's Engine in the
 * simulator once and asserting each of chrony's criteria as a step (check_sync, source
 * selection, packet interval, log messages...). A criterion the engine genuinely fails is
 * listed in `knownFailing` as "<id> / <criterion>" with its measured figures and is
 * registered with `ignore: true`; the thresholds themselves are never relaxed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type CatalogEntry, evaluate, runEntry } from "../../src/sim/catalog.ts";
import { summarize } from "../../src/sim/table.ts";
import { tempusEngines } from "../../src/sim/tempus_engine.ts";

/** Registers the tests; `knownFailing` maps "<id> / <criterion>" to the measured failure. */
export function registerScenarioTests(
  entries: CatalogEntry[],
  knownFailing: Record<string, string>,
): void {
  for (const entry of entries) {
    Deno.test(`${entry.id}: ${entry.title}`, async (t) => {
      const result = runEntry(entry, tempusEngines);
      if (entry.figure) console.log(`  ${entry.id}: ${entry.figure(result)}`);
      for (const criterion of evaluate(entry, result)) {
        await t.step({
          name: criterion.name,
          ignore: `${entry.id} / ${criterion.name}` in knownFailing,
          fn() {
            assert.deepEqual(criterion.failures, [], summarize(result));
          },
        });
      }
    });
  }
}
