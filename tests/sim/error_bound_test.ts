/**
 * The published error bound contains true time in every reading, over every single-client
 * scenario of the catalogue (chrony's and tempus's own), with the publisher and reader of the
 * daemon emulated in virtual time (tests/sim/error_bound_harness.ts). Figures go to
 * docs/operations.md.
 */
import assert from "node:assert/strict";
import { allScenarios } from "../../src/sim/catalog.ts";
import { type BoundFigures, checkErrorBound } from "./error_bound_harness.ts";

/**
 * Scenarios where the bound cannot hold by construction, with the reason. A bound rests on
 * the selected server telling the truth within its root distance; here the configuration
 * makes the client follow a server that is 1 s wrong.
 */
const FOLLOWS_A_FALSETICKER: Record<string, string> = {
  "120-selectoptions prefer": "prefer on a falseticker 1 s off: the client follows it on purpose",
};

const fmt = (s: number) => Number.isFinite(s) ? `${(s * 1e3).toFixed(3)} ms` : String(s);

Deno.test("error bound: true time inside in 100 % of readings, every scenario", () => {
  const rows: BoundFigures[] = [];
  for (const entry of allScenarios()) {
    if (entry.network) continue; // a layered network, no single client to read
    const f = checkErrorBound(entry);
    rows.push(f);
    if (entry.id in FOLLOWS_A_FALSETICKER) {
      assert.ok(f.violations > 0, `${entry.id}: expected to follow the falseticker`);
      continue;
    }
    assert.equal(f.violations, 0, `${entry.id}: ${f.firstViolation}`);
    assert.ok(f.bounded === 0 || f.minMargin >= 0, `${entry.id}: margin ${f.minMargin}`);
  }
  const bounded = rows.filter((r) => r.bounded > 0 && !(r.id in FOLLOWS_A_FALSETICKER));
  const readings = bounded.reduce((n, r) => n + r.bounded, 0);
  assert.ok(bounded.length >= 60, `only ${bounded.length} scenarios synchronised`);
  console.log(`  ${bounded.length} scenarios, ${readings} bounded readings, 0 outside`);
  for (const r of bounded) {
    console.log(
      `  ${r.id.padEnd(42)} bounded ${String(r.bounded).padStart(7)}/${
        String(r.samples).padEnd(7)
      } median ±${fmt(r.medianMaxError)}  p99 ±${fmt(r.p99MaxError)}  ` +
        `median |error| ${fmt(r.medianError)}  min margin ${fmt(r.minMargin)}`,
    );
  }
});
