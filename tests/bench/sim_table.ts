/**
 * `deno task bench:sim`: runs every catalogued scenario with tempus's Engine in the
 * simulator and prints one markdown table (sync time, max and RMS offset, RMS frequency
 * error beside chrony's thresholds). Optional arguments filter scenarios by id substring.
 *
 * @module
 */
import { allScenarios, evaluate, runEntry } from "../../src/sim/catalog.ts";
import { TABLE_HEADER, tableNotes, tableRow } from "../../src/sim/table.ts";
import { tempusEngines } from "../../src/sim/tempus_engine.ts";

const filters = Deno.args;
const entries = allScenarios().filter((e) =>
  filters.length === 0 || filters.some((f) => e.id.includes(f))
);
console.log(TABLE_HEADER.join("\n"));
let passed = 0;
const notes: string[] = [];
const started = performance.now();
for (const entry of entries) {
  const t0 = performance.now();
  let row: string;
  try {
    const r = runEntry(entry, tempusEngines);
    const criteria = evaluate(entry, r);
    if (criteria.every((c) => c.failures.length === 0)) passed++;
    row = tableRow(entry, r, criteria);
    notes.push(...tableNotes(entry, r, criteria));
  } catch (err) {
    row = `| ${entry.id} | — | — | — | — | — | — | ERROR: ${String(err).split("\n")[0]} |`;
  }
  console.log(row);
  console.error(`  ${entry.id}: ${((performance.now() - t0) / 1000).toFixed(2)} s CPU`);
}
if (notes.length > 0) console.log(`\nFailures and measured figures:\n\n${notes.join("\n")}`);
console.log(
  `\n${passed} of ${entries.length} scenarios pass; ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s in total.`,
);
