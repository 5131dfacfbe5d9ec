/**
 * The compact measurement recording for `tempus replay` (directive `recordmeasurements`): one
 * JSON object per line and accepted sample, at full precision, e.g.
 * `{"t":"1796406901123456789","source":"192.0.2.1","offset":-1.2e-5,"delay":0.0012,"poll":6}`
 * (t: the NTP clock when the sample was accepted, Unix ns as a string; offset reference minus
 * local, s; delay s; poll log2 s). chrony's measurements.log keeps 4 digits and whole seconds;
 * this keeps what replay needs to reproduce the engine's updates exactly.
 *
 * @module
 */
import type { Instant } from "../core/time.ts";
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
}

/** One line (without the newline). */
export function formatSampleRecord(r: SampleRecord): string {
  return JSON.stringify({
    t: r.t.toString(),
    source: r.source,
    offset: r.offset,
    delay: r.delay,
    poll: r.poll,
  });
}

/** Parses recorded lines; bad lines are counted, never thrown. */
export function parseSampleRecords(text: string): Parsed<MeasurementEntry> {
  const entries: MeasurementEntry[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      const t = typeof v.t === "string" && /^\d{1,20}$/.test(v.t) ? Number(BigInt(v.t)) / 1e9 : NaN;
      const ok = Number.isFinite(t) && typeof v.source === "string" &&
        typeof v.offset === "number" && Number.isFinite(v.offset) &&
        typeof v.delay === "number" && Number.isFinite(v.delay);
      if (!ok) {
        skipped++;
        continue;
      }
      entries.push({
        t,
        source: v.source as string,
        offset: v.offset as number,
        delay: v.delay as number,
        valid: true,
        ...(Number.isInteger(v.poll) ? { poll: v.poll as number } : {}),
      });
    } catch {
      skipped++;
    }
  }
  return { entries, skipped };
}

/** Appends records to a file (created 0644). */
export class SampleRecorder {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Opens `path` for appending, creating its directory. */
  static open(path: string): SampleRecorder {
    const dir = path.slice(0, path.lastIndexOf("/")) || "/";
    Deno.mkdirSync(dir, { recursive: true });
    return new SampleRecorder(
      Deno.openSync(path, { append: true, create: true, mode: 0o644 }),
    );
  }

  /** Appends one record. */
  write(r: SampleRecord): void {
    const bytes = this.#encoder.encode(formatSampleRecord(r) + "\n");
    let done = 0;
    while (done < bytes.length) done += this.#file.writeSync(bytes.subarray(done));
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}
