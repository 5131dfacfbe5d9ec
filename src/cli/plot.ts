/**
 * `tempus plot [LOGDIR] [--tracking FILE] [--measurements FILE] [-o OUT.svg] [--title T]
 * [--step-threshold S]` or `tempus plot --url http://127.0.0.1:9975`: draws offset,
 * frequency, delay and root distance history as SVG from chrony-style logs (`log measurements
 * tracking` in tempus or chronyd) or from a running daemon's recent history (GET /history on
 * its metrics endpoint). Steps are the
 * tracking updates whose correction reached the threshold (default 1 s, as the `makestep 1.0`
 * of the default configuration); a leap announced in tracking.log is marked at the UTC
 * midnight it applies to (or where it was first announced if that midnight is outside).
 *
 * @module
 */
import { parseCommandArgs } from "./command_args.ts";
import {
  type MeasurementEntry,
  parseMeasurementsLog,
  parseTrackingLog,
  type TrackingEntry,
} from "../io/log_parse.ts";
import type { HistoryData } from "../daemon/history.ts";
import { type PlotData, renderPlot } from "./plot_svg.ts";
import { readTextIfPresent } from "../io/files.ts";
import { errorMessage } from "../base/errors.ts";

const HELP = `Usage: tempus plot [LOGDIR] [--tracking FILE] [--measurements FILE] [-o OUT.svg]
                   [--title TEXT] [--step-threshold SECONDS]
       tempus plot --url http://127.0.0.1:9975 [-o OUT.svg]
Draws offset, frequency, delay and root distance history as SVG from chrony-style logs
(LOGDIR/tracking.log and LOGDIR/measurements.log, as written by 'log measurements tracking'
in tempus or chronyd), or from a running daemon's recent history (its metrics endpoint,
metricsport). Writes to stdout unless -o is given.`;

/** Steps and leap events found in the tracking log. */
export function findEvents(
  tracking: TrackingEntry[],
  stepThreshold: number,
): Pick<PlotData, "steps" | "leaps"> {
  const steps = tracking.filter((e) => Math.abs(e.offset) >= stepThreshold).map((e) => ({
    t: e.t,
    offset: e.offset,
  }));
  const leaps: PlotData["leaps"] = [];
  const end = tracking.length > 0 ? tracking[tracking.length - 1].t : 0;
  let last = "N";
  for (const e of tracking) {
    if ((e.leap === "+" || e.leap === "-") && last !== e.leap) {
      const midnight = Math.ceil(e.t / 86400) * 86400;
      const kind = e.leap === "+" ? "leap second inserted" : "leap second deleted";
      leaps.push(midnight <= end ? { t: midnight, kind } : { t: e.t, kind: `${kind} (announced)` });
    }
    last = e.leap;
  }
  return { steps, leaps };
}

/** `tempus plot`. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("plot", HELP, {
    args,
    options: {
      tracking: { type: "string" },
      measurements: { type: "string" },
      url: { type: "string" },
      output: { type: "string", short: "o" },
      title: { type: "string" },
      "step-threshold": { type: "string" },
      help: { type: "boolean" },
    },
    allowPositionals: true,
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    console.error("tempus plot: one log directory at most");
    return 2;
  }
  const threshold = Number(values["step-threshold"] ?? "1");
  if (!Number.isFinite(threshold) || threshold <= 0) {
    console.error(`tempus plot: invalid --step-threshold '${values["step-threshold"]}'`);
    return 2;
  }
  if (values.url !== undefined) {
    if (positionals.length > 0 || values.tracking || values.measurements) {
      console.error("tempus plot: --url replaces the log files");
      return 2;
    }
    let data: HistoryData;
    try {
      const res = await fetch(new URL("/history", values.url));
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      data = await res.json() as HistoryData;
    } catch (error) {
      console.error(`tempus plot: no history from ${values.url}: ${errorMessage(error)}`);
      return 1;
    }
    const svg = renderPlot({
      title: values.title ?? `tempus plot: ${values.url}`,
      tracking: data.tracking,
      measurements: data.measurements.filter((m) => m.valid),
      ...findEvents(data.tracking, threshold),
    });
    if (values.output) await Deno.writeTextFile(values.output, svg);
    else await Deno.stdout.write(new TextEncoder().encode(svg));
    return 0;
  }
  const dir = positionals[0] ?? null;
  const trackingPath = values.tracking ?? (dir === null ? null : `${dir}/tracking.log`);
  const measurementsPath = values.measurements ??
    (dir === null ? null : `${dir}/measurements.log`);
  if (trackingPath === null && measurementsPath === null) {
    console.error("tempus plot: give a log directory or --tracking/--measurements (see --help)");
    return 2;
  }
  let tracking: TrackingEntry[] = [];
  let measurements: MeasurementEntry[] = [];
  try {
    const tText = trackingPath === null ? null : readTextIfPresent(trackingPath);
    const mText = measurementsPath === null ? null : readTextIfPresent(measurementsPath);
    if (tText === null && mText === null) {
      console.error(`tempus plot: no tracking.log or measurements.log found`);
      return 1;
    }
    if (tText !== null) tracking = parseTrackingLog(tText).entries;
    if (mText !== null) measurements = parseMeasurementsLog(mText).entries;
  } catch (error) {
    console.error(`tempus plot: ${errorMessage(error)}`);
    return 1;
  }
  if (tracking.length === 0 && measurements.length === 0) {
    console.error("tempus plot: the logs hold no data lines");
    return 1;
  }
  const svg = renderPlot({
    title: values.title ?? `tempus plot: ${dir ?? trackingPath ?? measurementsPath}`,
    tracking,
    measurements,
    ...findEvents(tracking, threshold),
  });
  if (values.output) await Deno.writeTextFile(values.output, svg);
  else await Deno.stdout.write(new TextEncoder().encode(svg));
  return 0;
}
