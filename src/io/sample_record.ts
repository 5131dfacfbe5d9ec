/**
 * The compact measurement recording for `tempus replay` (directive `recordmeasurements`): one
 * JSON object per line and synchronised reply, at full precision, e.g.
 * `{"t":"1796406901123456789","source":"192.0.2.1","offset":-1.2e-5,"delay":0.0012,"poll":6,
 * "accepted":true}` (t: the NTP clock when the sample was accepted, or its reply processed if
 * rejected, Unix ns as a string; offset reference minus local, s; delay s; poll log2 s;
 * accepted: the daemon's verdict, true when absent as in recordings before it was written;
 * sampleTime: the NTP clock midway between the request's transmission and the reply's
 * arrival, Unix ns as a string; responseTime: the server's T3 - T2, s; both absent in
 * recordings before they were written).
 * chrony's measurements.log keeps 4 digits and whole seconds; this keeps what replay needs to
 * reproduce the engine's decisions and updates exactly.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";
import type { MeasurementEntry, Parsed } from "./log_parse.ts";

/** One recorded sample. */
export interface SampleRecord {
  /** NTP clock (cooked) when the sample was accepted. */
  t: Instant;
  /** Source address. */
  source: string;
  /** Offset, reference minus local, s. */
  offset: number;
  /** Round-trip delay, s. */
  delay: number;
  /** Local poll, log2 s. */
  poll: number;
  /** The daemon's verdict: the sample was used (tests A-D passed). */
  accepted: boolean;
  /** NTP clock (cooked) midway between the request's transmission and the reply's arrival. */
  sampleTime?: Instant;
  /** The server's processing time (T3 - T2), s. */
  responseTime?: number;
  /** What the server announced: stratum, precision (log2 s), root delay and dispersion (s). */
  server?: { stratum: number; precision: number; rootDelay: number; rootDispersion: number };
}

/** One line (without the newline). */
export function formatSampleRecord(r: SampleRecord): string {
  return JSON.stringify({
    t: r.t.toString(),
    source: r.source,
    offset: r.offset,
    delay: r.delay,
    poll: r.poll,
    accepted: r.accepted,
    ...(r.sampleTime !== undefined ? { sampleTime: r.sampleTime.toString() } : {}),
    ...(r.responseTime !== undefined ? { responseTime: r.responseTime } : {}),
    ...(r.server ? { server: r.server } : {}),
  });
}

/** The first line of a recording: the recording daemon's clock precision (s). */
export function formatRecordingHeader(precision: number): string {
  return JSON.stringify({ recording: "tempus", precision });
}

/** Parses recorded lines; bad lines are counted, never thrown. */
export function parseSampleRecords(
  text: string,
): Parsed<MeasurementEntry> & { precision: number | null } {
  const entries: MeasurementEntry[] = [];
  let skipped = 0;
  let precision: number | null = null;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (v && v.recording === "tempus") {
        if (typeof v.precision === "number" && v.precision > 0 && v.precision < 1) {
          precision = v.precision;
        }
        continue;
      }
      const t = typeof v.t === "string" && /^\d{1,20}$/.test(v.t) ? Number(BigInt(v.t)) / 1e9 : NaN;
      const ok = Number.isFinite(t) && typeof v.source === "string" &&
        typeof v.offset === "number" && Number.isFinite(v.offset) &&
        typeof v.delay === "number" && Number.isFinite(v.delay);
      if (!ok) {
        skipped++;
        continue;
      }
      const sv = v.server as Record<string, unknown> | undefined;
      const server = sv && typeof sv === "object" &&
          [sv.stratum, sv.precision, sv.rootDelay, sv.rootDispersion].every((x) =>
            typeof x === "number" && Number.isFinite(x)
          )
        ? {
          stratum: sv.stratum as number,
          serverPrecision: sv.precision as number,
          rootDelay: sv.rootDelay as number,
          rootDispersion: sv.rootDispersion as number,
        }
        : {};
      entries.push({
        t,
        source: v.source as string,
        offset: v.offset as number,
        delay: v.delay as number,
        valid: v.accepted !== false,
        ...(typeof v.sampleTime === "string" && /^\d{1,20}$/.test(v.sampleTime)
          ? { sampleTime: BigInt(v.sampleTime) }
          : {}),
        ...(typeof v.responseTime === "number" && Number.isFinite(v.responseTime)
          ? { responseTime: v.responseTime }
          : {}),
        ...(Number.isInteger(v.poll) ? { poll: v.poll as number } : {}),
        ...server,
      });
    } catch {
      skipped++;
    }
  }
  return { entries, skipped, precision };
}

/** Appends records to a file (created 0644). */
export class SampleRecorder {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Opens `path` for appending, creating its directory; writes a header with `precision`. */
  static open(path: string, precision: number | null = null): SampleRecorder {
    const dir = path.slice(0, path.lastIndexOf("/")) || "/";
    Deno.mkdirSync(dir, { recursive: true });
    const r = new SampleRecorder(
      Deno.openSync(path, { append: true, create: true, mode: 0o644 }),
    );
    if (precision !== null) r.#line(formatRecordingHeader(precision));
    return r;
  }

  #line(text: string): void {
    const bytes = this.#encoder.encode(text + "\n");
    let done = 0;
    while (done < bytes.length) done += this.#file.writeSync(bytes.subarray(done));
  }

  /** Appends one record. */
  write(r: SampleRecord): void {
    this.#line(formatSampleRecord(r));
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}
