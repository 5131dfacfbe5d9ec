/**
 * `deno task bench:sim`: runs every catalogued scenario with tempus's Engine in the
 * simulator and prints one markdown table (sync time, max and RMS offset, RMS frequency
 * error beside chrony's thresholds), then the failures and measured figures.
 *
 * Arguments: scenario id substrings to filter by; `--seeds=N` also sweeps seeds 2..N and
 * lists the seeds for which a scenario fails a criterion.
 *
 * @module
 */
import { allScenarios, type CatalogEntry, evaluate, runEntry } from "../../src/sim/catalog.ts";
import { TABLE_HEADER, tableNotes, tableRow } from "../../src/sim/table.ts";
import { tempusEngines } from "../../src/sim/tempus_engine.ts";

const seedsArg = Deno.args.find((a) => a.startsWith("--seeds="));
const maxSeed = seedsArg ? Number(seedsArg.slice("--seeds=".length)) : 1;
const filters = Deno.args.filter((a) => !a.startsWith("--"));
const entries = allScenarios().filter((e) =>
  filters.length === 0 || filters.some((f) => e.id.includes(f))
);

/** The entry run with another seed. */
function withSeed(entry: CatalogEntry, seed: number): CatalogEntry {
  return {
    ...entry,
    spec: { ...entry.spec, seed },
    network: entry.network ? { ...entry.network, seed } : undefined,
  };
}

console.log(TABLE_HEADER.join("\n"));
let passed = 0;
const notes: string[] = [];
const sweep: string[] = [];
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
    const failing: string[] = [];
    for (let seed = 2; seed <= maxSeed; seed++) {
      const e = withSeed(entry, seed);
      const failed = evaluate(e, runEntry(e, tempusEngines)).filter((c) => c.failures.length);
      if (failed.length) failing.push(`seed ${seed} (${failed.map((c) => c.name).join(", ")})`);
    }
    if (failing.length) sweep.push(`- ${entry.id}: ${failing.join("; ")}`);
  } catch (err) {
    row = `| ${entry.id} | — | — | — | — | — | — | ERROR: ${String(err).split("\n")[0]} |`;
  }
  console.log(row);
  console.error(`  ${entry.id}: ${((performance.now() - t0) / 1000).toFixed(2)} s CPU`);
}
if (notes.length > 0) console.log(`\nFailures and measured figures:\n\n${notes.join("\n")}`);
if (maxSeed > 1) {
  console.log(
    `\nSeeds 2-${maxSeed}: ${sweep.length === 0 ? "every scenario passes." : "failing seeds:"}\n`,
  );
  if (sweep.length) console.log(sweep.join("\n"));
}
console.log(
  `\n${passed} of ${entries.length} scenarios pass; ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s in total.`,
);
