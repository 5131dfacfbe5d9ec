/**
 * `tempus now [--file PATH] [--json]`: reads the daemon's error-bound page (errorboundfile)
 * and the system clock, and prints `earliest ≤ true time ≤ latest`. Needs no privilege and
 * no round trip to the daemon. Exit 0 when bounded, 1 when the daemon promises nothing
 * (unsynchronised, stale page, no page).
 *
 * @module
 */
import { parseCommandArgs } from "./command_args.ts";
import { DEFAULT_ERROR_BOUND_FILE } from "../config/defaults.ts";
import { boundAt, type ErrorBoundSnapshot, type TimeInterval } from "../core/error_bound.ts";
import { readErrorBoundPage } from "../io/error_bound_file.ts";

const HELP = `Usage: tempus now [--file PATH] [--json]
Prints earliest <= true time <= latest from the daemon's error-bound page
(default ${DEFAULT_ERROR_BOUND_FILE}; the daemon writes it when errorboundfile is set).
--json: {"earliest": S, "latest": S, "max_error": S, "status": ..., "leap": ...} in Unix seconds.
Exit status 0 when the time is bounded, 1 otherwise.`;

/** Unix seconds with nanoseconds, exactly (no double rounding). */
export function unixSecondsText(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  return `${neg ? "-" : ""}${a / 1_000_000_000n}.${
    (a % 1_000_000_000n).toString().padStart(9, "0")
  }`;
}

/** ISO 8601 UTC with nanoseconds. */
export function isoNanos(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  return `${base}.${frac.toString().padStart(9, "0")}Z`;
}

const LEAPS = ["none", "insert", "delete", "unsynchronised"];

/** The text and JSON lines `tempus now` prints. */
export function formatNow(
  snapshot: ErrorBoundSnapshot | null,
  interval: TimeInterval | null,
  reason: string,
  json: boolean,
): string {
  if (json) {
    if (interval === null || snapshot === null) {
      return `{"status":"unsynchronised","reason":${JSON.stringify(reason)}}`;
    }
    return `{"earliest":${unixSecondsText(interval.earliest)},"latest":${
      unixSecondsText(interval.latest)
    },"max_error":${interval.maxError},"status":"synchronised","leap":"${LEAPS[snapshot.leap]}"}`;
  }
  if (interval === null || snapshot === null) return `true time unknown: ${reason}`;
  const leap = snapshot.leap === 1 || snapshot.leap === 2
    ? ` (leap second ${LEAPS[snapshot.leap]} pending)`
    : "";
  return `${isoNanos(interval.earliest)} ≤ true time ≤ ${isoNanos(interval.latest)}  (±${
    (interval.maxError * 1e3).toFixed(6)
  } ms)${leap}`;
}

/** `tempus now`. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("now", HELP, {
    args,
    options: {
      file: { type: "string", short: "f" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
    allowPositionals: false,
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const path = values.file ?? DEFAULT_ERROR_BOUND_FILE;
  const json = values.json ?? false;
  let page;
  try {
    page = readErrorBoundPage(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? `no error-bound page at ${path} (is errorboundfile set?)`
      : `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`;
    console.log(formatNow(null, null, why, json));
    return 1;
  }
  if (!page.ok) {
    console.log(formatNow(null, null, `page at ${path} is unreadable (${page.error})`, json));
    return 1;
  }
  const { clockGettime } = await import("../../ffi/libc.ts");
  const monotonic = clockGettime(1);
  const realtime = clockGettime(0);
  const interval = boundAt(page.snapshot, realtime, monotonic);
  const reason = page.snapshot.status !== "synchronised"
    ? "the daemon is not synchronised"
    : "the page is stale (is the daemon running?)";
  console.log(formatNow(page.snapshot, interval, reason, json));
  return interval === null ? 1 : 0;
}
