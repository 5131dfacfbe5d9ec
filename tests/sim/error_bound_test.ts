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
 * Scenarios where the client follows a wrong majority while a source configured `prefer`
 * or `trust` tells the truth: the bound covers the dissenting source
 * (src/core/error_bound.ts dissentingSamples), so it holds there too, and the test checks
 * that the client really is far off (the bound is not trivially met).
 */
const FOLLOWS_A_WRONG_MAJORITY: Record<string, string> = {
  "120-selectoptions prefer":
    "two of three servers 1 s and 2 s off outvote the preferred, truthful one",
};

const fmt = (s: number) => Number.isFinite(s) ? `${(s * 1e3).toFixed(3)} ms` : String(s);

Deno.test("error bound: true time inside in 100 % of readings, every scenario", () => {
  const rows: BoundFigures[] = [];
  for (const entry of allScenarios()) {
    if (entry.network) continue; // a layered network, no single client to read
    const f = checkErrorBound(entry);
    rows.push(f);
    if (entry.id in FOLLOWS_A_WRONG_MAJORITY) {
      assert.ok(f.medianError > 0.5, `${entry.id}: expected to follow the wrong majority`);
    }
    assert.equal(f.violations, 0, `${entry.id}: ${f.firstViolation}`);
    assert.ok(f.bounded === 0 || f.minMargin >= 0, `${entry.id}: margin ${f.minMargin}`);
  }
  const bounded = rows.filter((r) => r.bounded > 0);
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
