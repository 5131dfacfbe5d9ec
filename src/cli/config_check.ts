/**
 * `tempus config check FILE [--json]`: validates a chrony.conf or tempus.toml and prints the
 * effective configuration (chrony.conf syntax, or JSON with --json), exiting 0; or prints
 * `file:line: error` lines on stderr and exits 1. After parsing it runs the daemon's own
 * start-up checks (keyfile and the keys sources name, the run user), so a configuration that
 * passes here is one `tempus daemon` accepts.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatDiagnostic, loadConfigSync, renderConfig } from "../config/load.ts";
import { checkStartup } from "../daemon/startup_checks.ts";

/** Help text of `tempus config`. */
export const CONFIG_USAGE: string = [
  "Usage: tempus config check FILE [--json]",
  "",
  "  Validates FILE (chrony.conf syntax, or tempus.toml when it ends in .toml) and prints",
  "  the effective configuration. Errors are printed as file:line: message (exit 1).",
  "  FILE '-' checks the embedded default configuration.",
  "",
  "  --json    print the configuration as JSON",
].join("\n");

/** Output streams (injected by tests). */
export interface ConfigCheckIo {
  /** Writes one line to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
}

const CONSOLE_IO: ConfigCheckIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** Runs `tempus config ...`; returns the exit code (0 valid, 1 invalid, 2 usage). */
export function run(args: string[], io: ConfigCheckIo = CONSOLE_IO): Promise<number> {
  return Promise.resolve(runSync(args, io));
}

function runSync(args: string[], io: ConfigCheckIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    });
  } catch (e) {
    io.err(`tempus config: ${e instanceof Error ? e.message : String(e)}`);
    io.err(CONFIG_USAGE);
    return 2;
  }
  if (parsed.values.help) {
    io.out(CONFIG_USAGE);
    return 0;
  }
  const [sub, file, ...extra] = parsed.positionals;
  if (sub !== "check" || file === undefined || extra.length > 0) {
    io.err(CONFIG_USAGE);
    return 2;
  }
  const result = loadConfigSync(file === "-" ? null : file);
  for (const w of result.warnings) io.err(`${formatDiagnostic(w)} (warning)`);
  if (!result.ok) {
    for (const e of result.errors) io.err(formatDiagnostic(e));
    io.err(`${file}: ${result.errors.length} error${result.errors.length === 1 ? "" : "s"}`);
    return 1;
  }
  // The checks the daemon makes before it starts (keyfile, keys in use, run user).
  const startup = checkStartup(result.config, null);
  for (const w of startup.warnings) io.err(`${file}: ${w} (warning)`);
  if (startup.errors.length > 0) {
    for (const e of startup.errors) io.err(`${file}: ${e}`);
    const n = startup.errors.length;
    io.err(`${file}: ${n} error${n === 1 ? "" : "s"}`);
    return 1;
  }
  if (parsed.values.json) io.out(JSON.stringify(result.config, null, 2));
  else io.out(renderConfig(result.config).trimEnd());
  return 0;
}
