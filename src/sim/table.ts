/**
 * Formatting of scenario results: one-line summaries for test messages and the markdown
 * accuracy table (scenario, sync time, max/RMS offset, RMS frequency error beside chrony's
 * thresholds).
 *
 * @module
 */
import type { CatalogEntry, CriterionResult } from "./catalog.ts";
import type { ScenarioResult } from "./scenario.ts";

/** Seconds in engineering notation ("1.23e-4"). */
function e(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}

/** A one-line summary of a result (chrony's check_sync line plus counters). */
export function summarize(r: ScenarioResult): string {
  const m = r.metrics;
  return `${r.name}: sync ${m.syncTime ?? "never"} s, max ${e(m.maxOffset)} s / ${e(m.maxFreq)}, ` +
    `RMS ${e(m.rmsOffset)} s / ${e(m.rmsFreq)}; sent ${r.transport.sent}, replies ` +
    `${r.transport.received}, steps ${r.clockSteps}; log ${JSON.stringify(r.logCounts)}`;
}

/** The header of the accuracy table. */
export const TABLE_HEADER = [
  "| scenario | sync time (s) | chrony sync range | max offset | RMS offset | RMS freq | " +
  "chrony max / RMS offset, RMS freq | result |",
  "|---|---|---|---|---|---|---|---|",
];

/** One markdown row for an entry, its result and the verdict of each criterion. */
export function tableRow(
  entry: CatalogEntry,
  r: ScenarioResult,
  criteria: CriterionResult[],
): string {
  const failed = criteria.filter((c) => c.failures.length > 0).map((c) => c.name);
  const m = r.metrics;
  const l = r.limits;
  const t = (x: number) => Number.isInteger(x) ? String(x) : x.toFixed(3);
  const range = Number.isFinite(l.timeMax) ? `${t(l.minSyncTime)}–${t(l.maxSyncTime)}` : "—";
  const limits = Number.isFinite(l.timeMax)
    ? `${e(l.timeMax)} / ${e(l.timeRms)}, ${e(l.freqRms)}`
    : "—";
  const verdict = failed.length === 0
    ? (entry.expectSync === false ? "pass (no sync, as required)" : "pass")
    : `**FAIL** (${failed.join(", ")})`;
  const sync = m.syncTime === null ? "never" : t(m.syncTime);
  return `| ${entry.id} | ${sync} | ${range} | ${e(m.maxOffset)} | ${e(m.rmsOffset)} | ` +
    `${e(m.rmsFreq)} | ${limits} | ${verdict} |`;
}

/**
 * The notes printed under the table: every failed criterion with its message, and every
 * scenario's measured figure (product claims). Empty when there is nothing to say.
 */
export function tableNotes(
  entry: CatalogEntry,
  r: ScenarioResult,
  criteria: CriterionResult[],
): string[] {
  const notes: string[] = [];
  for (const c of criteria) {
    if (c.failures.length > 0) notes.push(`- ${entry.id}, ${c.name}: ${c.failures.join("; ")}`);
  }
  if (entry.figure) notes.push(`- ${entry.id}: ${entry.figure(r)}`);
  return notes;
}
