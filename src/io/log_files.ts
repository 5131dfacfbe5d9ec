/**
 * chrony-style statistics log files under `logdir` (the `log` directive): tracking.log,
 * measurements.log, statistics.log, rtc.log and selection.log, with chrony's columns,
 * number formats and "=====" banners repeated every `logbanner` lines, so existing chrony
 * log tooling reads them. The daemon hands plain records in tempus's sign convention; the
 * conversion to chrony's column signs happens here, at the edge.
 *
 * Files are opened lazily (append) on the first line; `reopen()` (SIGHUP, chronyc
 * `cyclelogs`) closes them so the next line re-creates the file with a fresh banner.
 *
 * @module
 */
import type { Config, LogKind } from "../config/model.ts";
import type { LogPort } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";
import {
  bannerBlock,
  cExp,
  formatMeasurementLine,
  formatRefclockLine,
  formatRtcLine,
  formatSelectionLine,
  formatStatisticsLine,
  formatTrackingLine,
  logTime,
  type MeasurementLogRecord,
  MEASUREMENTS_BANNER,
  type RefclockLogRecord,
  REFCLOCKS_BANNER,
  RTC_BANNER,
  type RtcLogRecord,
  SELECTION_BANNER,
  type SelectionLogRecord,
  STATISTICS_BANNER,
  type StatisticsLogRecord,
  TEMPCOMP_BANNER,
  TRACKING_BANNER,
  type TrackingLogRecord,
} from "./log_format.ts";
/** Writes lines to files (injected in tests; default appends through Deno). */
export interface LineFileSystem {
  /** Creates a directory with parents if missing. */
  mkdir(dir: string): void;
  /** Appends text to a file, creating it; throws on failure. */
  append(path: string, text: string): void;
}

/** The log files tempus writes (name without ".log"). */
export type FileName =
  | "tracking"
  | "measurements"
  | "statistics"
  | "rtc"
  | "selection"
  | "refclocks"
  | "tempcomp";

const BANNERS: Record<FileName, string> = {
  tracking: TRACKING_BANNER,
  measurements: MEASUREMENTS_BANNER,
  statistics: STATISTICS_BANNER,
  rtc: RTC_BANNER,
  selection: SELECTION_BANNER,
  tempcomp: TEMPCOMP_BANNER,
  refclocks: REFCLOCKS_BANNER,
};

/** The real file system. */
export const DENO_LINE_FS: LineFileSystem = {
  mkdir: (dir) => Deno.mkdirSync(dir, { recursive: true, mode: 0o755 }),
  append: (path, text) => Deno.writeTextFileSync(path, text, { append: true, create: true }),
};

/** Options of LogFiles. */
export interface LogFilesOptions {
  /** The logdir. */
  dir: string;
  /** Enabled kinds (the `log` directive). */
  kinds: readonly LogKind[];
  /** Banner every N lines (0 = never). */
  banner: number;
  /** File access (default: Deno). */
  fs?: LineFileSystem;
  /** Where to report write failures (once per file until it works again). */
  log?: LogPort;
}

/** The set of chrony-style log files of one daemon. */
export class LogFiles {
  #dir: string;
  #enabled: Set<LogKind>;
  #banner: number;
  #fs: LineFileSystem;
  #log: LogPort | null;
  #writes = new Map<FileName, number>();
  #failing = new Set<FileName>();
  #dirMade = false;

  /** Creates the writer; nothing is opened until the first line. */
  constructor(options: LogFilesOptions) {
    this.#dir = options.dir;
    this.#enabled = new Set(options.kinds);
    this.#banner = options.banner;
    this.#fs = options.fs ?? DENO_LINE_FS;
    this.#log = options.log ?? null;
  }

  /** A writer for `config` (logdir + log kinds), or null when no file log is enabled. */
  static fromConfig(
    config: Config,
    options: { fs?: LineFileSystem; log?: LogPort } = {},
  ): LogFiles | null {
    if (config.logDir === null || config.logKinds.length === 0) return null;
    return new LogFiles({
      dir: config.logDir,
      kinds: config.logKinds,
      banner: config.logBanner,
      ...options,
    });
  }

  /** True when `kind` is enabled. */
  enabled(kind: LogKind): boolean {
    return this.#enabled.has(kind);
  }

  /** Path of one log file. */
  path(name: FileName): string {
    return `${this.#dir.replace(/\/+$/, "")}/${name}.log`;
  }

  #write(name: FileName, line: string): void {
    const n = this.#writes.get(name) ?? 0;
    let text = "";
    if (this.#banner > 0 && n % this.#banner === 0) text += bannerBlock(BANNERS[name]);
    text += line + "\n";
    try {
      if (!this.#dirMade) {
        this.#fs.mkdir(this.#dir);
        this.#dirMade = true;
      }
      this.#fs.append(this.path(name), text);
      this.#writes.set(name, n + 1);
      this.#failing.delete(name);
    } catch (e) {
      if (!this.#failing.has(name)) {
        this.#failing.add(name);
        this.#log?.log("error", `Could not write to ${this.path(name)}`, {
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
  }

  /** Logs a clock update to tracking.log (if enabled). */
  tracking(r: TrackingLogRecord): void {
    if (this.#enabled.has("tracking")) this.#write("tracking", formatTrackingLine(r));
  }

  /** Logs a measurement to measurements.log (valid ones, or all with rawmeasurements). */
  measurements(r: MeasurementLogRecord): void {
    if (this.#enabled.has("rawmeasurements") || (this.#enabled.has("measurements") && r.valid)) {
      this.#write("measurements", formatMeasurementLine(r));
    }
  }

  /** Logs a regression to statistics.log (if enabled). */
  statistics(r: StatisticsLogRecord): void {
    if (this.#enabled.has("statistics")) this.#write("statistics", formatStatisticsLine(r));
  }

  /** Logs an RTC reading to rtc.log (if enabled). */
  rtc(r: RtcLogRecord): void {
    if (this.#enabled.has("rtc")) this.#write("rtc", formatRtcLine(r));
  }

  /** Logs a refclock sample to refclocks.log (if enabled). */
  refclocks(r: RefclockLogRecord): void {
    if (this.#enabled.has("refclocks")) this.#write("refclocks", formatRefclockLine(r));
  }

  /** Logs a source's selection state to selection.log (if enabled). */
  selection(r: SelectionLogRecord): void {
    if (this.#enabled.has("selection")) this.#write("selection", formatSelectionLine(r));
  }

  /**
   * Logs a temperature reading and the compensation applied (ppm, chrony's sign) to
   * tempcomp.log, as chrony: "%s %11.4e %11.4e".
   */
  tempcomp(time: Instant, temperature: number, compPpm: number): void {
    if (this.#enabled.has("tempcomp")) {
      this.#write(
        "tempcomp",
        `${logTime(time)} ${cExp(temperature, 4, 11)} ${cExp(compPpm, 4, 11)}`,
      );
    }
  }

  /** Starts new files (cyclelogs / SIGHUP): the next line of each file starts with a banner. */
  reopen(): void {
    this.#writes.clear();
    this.#failing.clear();
    this.#dirMade = false;
  }
}
