/**
 * Logging for tempus: the one module importing @logtape/logtape. It configures levels and
 * sinks (stderr, and optionally a file that can be re-opened on SIGHUP / cyclelogs) and
 * hands out `LogPort` adapters for the engine and the daemon.
 *
 * When stderr is connected to the systemd journal (JOURNAL_STREAM is set, or `journal:
 * true`), each line is prefixed with its syslog priority `<N>` and carries no timestamp,
 * which journald adds itself.
 *
 * @module
 */
import {
  configureSync,
  getLogger,
  type LogLevel as TapeLevel,
  type LogRecord,
  reset,
  type Sink,
} from "@logtape/logtape";
import type { LogLevel, LogPort } from "../base/ports.ts";
import { SyslogSink } from "./syslog.ts";
import { bestEffort } from "../base/errors.ts";

/** logtape's level names (its `LogLevel`, spelt out so this API names no logtape type). */
export type TapeLevelName = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/**
 * The fields of a logtape record the line formatters read (a structural subset of logtape's
 * `LogRecord`, so this module's API does not expose logtape's internal types).
 */
export interface FormattableRecord {
  /** logtape's level name. */
  readonly level: TapeLevelName;
  /** When the record was made, ms since the Unix epoch. */
  readonly timestamp: number;
  /** The message parts (strings and interpolated values). */
  readonly message: readonly unknown[];
  /** Structured fields, rendered as k=v. */
  readonly properties: Record<string, unknown>;
}

/** How to set up logging. */
export interface LoggingOptions {
  /** Lowest level written (default "info"). */
  level?: LogLevel;
  /** Write to stderr (default true; `tempus daemon -d` and under systemd). */
  stderr?: boolean;
  /** `<N>` priority prefixes for journald: true, false, or "auto" (JOURNAL_STREAM set). */
  journal?: boolean | "auto";
  /** Also append to this file (re-opened by `reopen()`), or null. */
  file?: string | null;
  /** Send to syslog (/dev/log) under this identity, or null (the default). */
  syslog?: string | null;
  /** Where stderr lines go (tests inject a collector; default Deno.stderr). */
  stderrWriter?: (line: string) => void;
  /** The environment lookup (tests inject; default Deno.env.get). */
  env?: (name: string) => string | undefined;
}

/** A configured logging system. */
export interface Logging {
  /** A LogPort for a category ("engine", "daemon", "cmdmon", ...). */
  port(category?: string): LogPort;
  /** Closes and re-opens the log file (after rotation); a no-op without one. */
  reopen(): void;
  /** Flushes and detaches all sinks. */
  close(): Promise<void>;
}

/** syslog priorities of the levels (sd-daemon(3) prefixes). */
export const JOURNAL_PRIORITY: Readonly<Record<LogLevel, number>> = Object.freeze({
  error: 3,
  warning: 4,
  info: 6,
  debug: 7,
});

const TAPE_TO_LEVEL: Record<TapeLevel, LogLevel> = {
  trace: "debug",
  debug: "debug",
  info: "info",
  warning: "warning",
  error: "error",
  fatal: "error",
};

function renderFields(fields: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    let text: string;
    if (typeof v === "string") text = /[\s"=]/.test(v) ? JSON.stringify(v) : v;
    else if (typeof v === "bigint") text = v.toString();
    else if (v instanceof Error) text = JSON.stringify(v.message);
    else {
      try {
        text = JSON.stringify(v) ?? String(v);
      } catch {
        text = String(v);
      }
    }
    parts.push(`${k}=${text}`);
  }
  return parts.length === 0 ? "" : ` ${parts.join(" ")}`;
}

function messageOf(record: FormattableRecord): string {
  return record.message.map((m) => (typeof m === "string" ? m : String(m))).join("");
}

/** Formats a record as a plain line: "2026-01-02T03:04:05.678Z WARN message k=v". */
export function formatPlainLine(record: FormattableRecord): string {
  const level = TAPE_TO_LEVEL[record.level].toUpperCase().padEnd(7);
  const time = new Date(record.timestamp).toISOString();
  return `${time} ${level} ${messageOf(record)}${renderFields(record.properties)}`;
}

/** Formats a record for journald: "<4>message k=v" (journald adds the time). */
export function formatJournalLine(record: FormattableRecord): string {
  const priority = JOURNAL_PRIORITY[TAPE_TO_LEVEL[record.level]];
  const text = `${messageOf(record)}${renderFields(record.properties)}`;
  // journald reads one entry per line: every line carries the priority.
  return text.split("\n").map((line) => `<${priority}>${line}`).join("\n");
}

const encoder = new TextEncoder();

/** Writes `line` and a newline whole; an error drops the line (logging must not crash). */
function writeLine(to: { writeSync(bytes: Uint8Array): number }, line: string): void {
  try {
    const bytes = encoder.encode(line + "\n");
    let n = 0;
    while (n < bytes.length) n += to.writeSync(bytes.subarray(n));
  } catch {
    // disk full, file gone or stderr closed: nowhere to report it
  }
}

/** A file sink that appends lines and can be re-opened after log rotation. */
export class ReopenableFileSink {
  #path: string;
  #file: Deno.FsFile | null = null;

  /** Opens (creates, appends to) `path`. Throws if it cannot be opened. */
  constructor(path: string) {
    this.#path = path;
    this.#open();
  }

  #open(): void {
    this.#file = Deno.openSync(this.#path, { append: true, create: true, mode: 0o644 });
  }

  /** Appends one line (a newline is added). Write errors are swallowed: logging must not crash. */
  write(line: string): void {
    if (this.#file !== null) writeLine(this.#file, line);
  }

  /** Closes and re-opens the path (a rotated file is left to its new name). */
  reopen(): void {
    this.close();
    try {
      this.#open();
    } catch {
      this.#file = null;
    }
  }

  /** Closes the file. */
  close(): void {
    bestEffort(() => this.#file?.close());
    this.#file = null;
  }
}

/** A LogPort writing through a logtape logger of `category`. */
class TapePort implements LogPort {
  #category: string[];
  constructor(category: string[]) {
    this.#category = category;
  }
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    getLogger(this.#category).emit({
      level,
      message: [message],
      rawMessage: message,
      timestamp: Date.now(),
      properties: fields ?? {},
    });
  }
}

/**
 * Configures logging (replacing any earlier configuration) and returns the handle (all sinks
 * are synchronous). Throws if the log file cannot be opened.
 */
export function setupLoggingSync(options: LoggingOptions = {}): Logging {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const journal = options.journal === undefined || options.journal === "auto"
    ? (env("JOURNAL_STREAM") ?? "") !== ""
    : options.journal;
  const sinks: Record<string, Sink> = {};
  if (options.stderr ?? true) {
    const write = options.stderrWriter ?? ((line: string) => writeLine(Deno.stderr, line));
    const format = journal ? formatJournalLine : formatPlainLine;
    sinks.stderr = (record: LogRecord) => write(format(record));
  }
  let fileSink: ReopenableFileSink | null = null;
  if (options.file) {
    fileSink = new ReopenableFileSink(options.file);
    const f = fileSink;
    sinks.file = (record: LogRecord) => f.write(formatPlainLine(record));
  }
  let syslogSink: SyslogSink | null = null;
  if (options.syslog) {
    syslogSink = new SyslogSink(options.syslog);
    const s = syslogSink;
    sinks.syslog = (record: LogRecord) =>
      s.write(
        TAPE_TO_LEVEL[record.level],
        `${messageOf(record)}${renderFields(record.properties)}`,
      );
  }
  configureSync({
    reset: true,
    sinks,
    loggers: [
      { category: ["tempus"], sinks: Object.keys(sinks), lowestLevel: options.level ?? "info" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
  return {
    port: (category?: string) => new TapePort(category ? ["tempus", category] : ["tempus"]),
    reopen: () => fileSink?.reopen(),
    close: async () => {
      await reset();
      fileSink?.close();
      syslogSink?.close();
    },
  };
}

/**
 * A LogPort writing through whatever logging is configured now (for the few lines written
 * outside the daemon's own wiring, e.g. start-up failures and process options).
 */
export function currentLogPort(category = "daemon"): LogPort {
  return new TapePort(["tempus", category]);
}
