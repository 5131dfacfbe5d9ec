/**
 * `tempus replay LOGDIR|MEASUREMENTS.LOG [-f CONFIG] [--compare TRACKING.LOG] [--json]
 * [--quiet]`: runs recorded measurements through tempus's engine in the simulator and prints
 * what it decided and why: each sample accepted or rejected (with the engine's reason), each
 * clock update (offset, frequency, selection states), the engine's messages. With a tracking
 * log of the recorded run (LOGDIR/tracking.log by default), compares the updates one by one.
 * `-f CONFIG` tries a configuration (its server lines give the source options by address).
 *
 * @module
 */
import { parseCommandArgs } from "./command_args.ts";
import { formatDiagnostics, loadConfig } from "../config/load.ts";
import type { Config, SourceParams } from "../config/model.ts";
import { parseMeasurementsLog, parseTrackingLog, type TrackingEntry } from "../io/log_parse.ts";
import { parseSampleRecords } from "../io/sample_record.ts";
import { replay, type ReplayEvent } from "./replay_run.ts";
import { readTextIfPresent } from "../io/files.ts";

const HELP = `Usage: tempus replay LOGDIR|RECORDING [-f CONFIG] [--compare TRACKING.LOG]
                     [--json] [--quiet]
Runs recorded measurements through tempus's engine in virtual time and prints what it
decided: samples accepted or rejected and why, clock updates, selection. RECORDING is the
compact recording of 'recordmeasurements FILE' (exact) or a chrony-style measurements.log
('log measurements' or 'log rawmeasurements', tempus's or chronyd's; whole seconds). A
LOGDIR is searched for samples.jsonl, then measurements.log; its tracking.log is compared.`;

/** How the replayed updates compare with the recorded ones, in order. */
export interface Comparison {
  /** Updates in the recorded tracking log. */
  recorded: number;
  /** Updates in the replay. */
  replayed: number;
  /**
   * Pairs (recorded i-th, replayed i-th) whose offsets agree within the log's precision
   * (4 significant digits) plus `tolerance`.
   */
  matched: number;
  /** Median |offset difference| over the pairs, s. */
  medianDiff: number;
  /** Largest difference, s. */
  maxDiff: number;
}

/** Pairs recorded and replayed updates in order; `tolerance` in seconds. */
export function compareUpdates(
  recorded: TrackingEntry[],
  events: ReplayEvent[],
  tolerance = 1e-6,
): Comparison {
  const updates = events.filter((e) => e.kind === "update") as Extract<
    ReplayEvent,
    { kind: "update" }
  >[];
  const n = Math.min(recorded.length, updates.length);
  const diffs: number[] = [];
  let matched = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(updates[i].offset - recorded[i].offset);
    diffs.push(d);
    if (d <= Math.abs(recorded[i].offset) * 5e-4 + tolerance) matched++;
  }
  diffs.sort((a, b) => a - b);
  return {
    recorded: recorded.length,
    replayed: updates.length,
    matched,
    medianDiff: diffs.length ? diffs[Math.floor(diffs.length / 2)] : NaN,
    maxDiff: diffs.length ? diffs[diffs.length - 1] : NaN,
  };
}

function stamp(t: number): string {
  return new Date(t * 1000).toISOString().slice(11, 23);
}

const e3 = (v: number) => (v >= 0 ? "+" : "") + v.toExponential(3);

/** One line per event. */
export function formatEvent(e: ReplayEvent): string {
  switch (e.kind) {
    case "sample":
      return `${stamp(e.t)} sample  ${e.source} offset ${e3(e.offset)} delay ${
        e.delay.toExponential(3)
      } -> ${e.accepted ? "accepted" : "rejected"}${
        e.accepted === e.recorded ? "" : ` (recorded: ${e.recorded ? "accepted" : "rejected"})`
      }${e.why.length ? ` (${e.why.join("; ")})` : ""}`;
    case "update":
      return `${stamp(e.t)} update  offset ${e3(e.offset)} freq ${e.freqPpm.toFixed(3)} ppm, ` +
        `${e.combined} combined, selected ${e.selected ?? "none"}; ` +
        Object.entries(e.states).map(([a, s]) => `${a}=${s}`).join(" ");
    case "log":
      return `${stamp(e.t)} ${e.level.padEnd(7)} ${e.message}`;
    case "unanswered":
      return `${stamp(e.t)} request ${e.source}: no recorded sample near this time`;
  }
}

/** `tempus replay`. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("replay", HELP, {
    args,
    options: {
      config: { type: "string", short: "f" },
      compare: { type: "string" },
      json: { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean" },
    },
    allowPositionals: true,
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.error("tempus replay: give one log directory or measurements file (see --help)");
    return 2;
  }
  const input = positionals[0];
  let isDir = false;
  try {
    isDir = Deno.statSync(input).isDirectory;
  } catch {
    console.error(`tempus replay: cannot read ${input}`);
    return 1;
  }
  const measurementsText = isDir
    ? readTextIfPresent(`${input}/samples.jsonl`) ?? readTextIfPresent(`${input}/measurements.log`)
    : readTextIfPresent(input);
  if (measurementsText === null) {
    console.error(`tempus replay: no samples.jsonl or measurements.log in ${input}`);
    return 1;
  }
  // The compact recording (recordmeasurements) is JSON lines; chrony's logs are columns.
  const exactTimes = measurementsText.trimStart().startsWith("{");
  const recording = exactTimes ? parseSampleRecords(measurementsText) : null;
  const records = recording !== null
    ? recording.entries
    : parseMeasurementsLog(measurementsText).entries;
  if (records.length === 0) {
    console.error("tempus replay: no measurements to replay");
    return 1;
  }
  let config: Config | undefined;
  let params: Map<string, SourceParams> | undefined;
  if (values.config) {
    const loaded = await loadConfig(values.config);
    if (!loaded.ok) {
      for (const line of formatDiagnostics(loaded.errors)) console.error(line);
      return 1;
    }
    config = loaded.config;
    params = new Map(config.sources.map((s) => [s.name, s.params]));
  }
  const result = replay(records, {
    config,
    params,
    exactTimes,
    localPrecision: recording?.precision ?? undefined,
  });
  const comparePath = values.compare ?? (isDir ? `${input}/tracking.log` : null);
  const trackingText = comparePath === null ? null : readTextIfPresent(comparePath);
  const comparison = trackingText === null
    ? null
    : compareUpdates(parseTrackingLog(trackingText).entries, result.events);
  const samples = result.events.filter((e) => e.kind === "sample");
  const acceptedCount = samples.filter((e) => e.kind === "sample" && e.accepted).length;
  const differing = samples.filter((e) => e.kind === "sample" && e.accepted !== e.recorded).length;
  if (values.json) {
    console.log(JSON.stringify({ events: result.events, unused: result.unused, comparison }));
  } else {
    if (!values.quiet) { for (const e of result.events) console.log(formatEvent(e)); }
    console.log(
      `replayed ${samples.length} of ${records.length} recorded samples ` +
        `(${acceptedCount} accepted, ${samples.length - acceptedCount} rejected, ` +
        `${result.unused} never asked for); ${differing} verdicts differ from the recording's`,
    );
    if (comparison !== null) {
      console.log(
        `updates: ${comparison.replayed} replayed, ${comparison.recorded} recorded, ` +
          `${comparison.matched} agree in order within 1 µs; |offset difference| median ${
            comparison.medianDiff.toExponential(2)
          } s, max ${comparison.maxDiff.toExponential(2)} s`,
      );
    }
  }
  return 0;
}
