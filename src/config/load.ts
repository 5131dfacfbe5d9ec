/**
 * Loading the configuration: the embedded default when no file is given, `tempus.toml`
 * style files by their `.toml` extension, chrony.conf syntax otherwise. Also re-exports
 * `renderConfig` (the effective configuration in chrony.conf syntax).
 *
 * @module
 */
import {
  type ConfParseResult,
  type ConfReader,
  denoConfReader,
  parseChronyConf,
  parseChronyConfText,
} from "./chrony_conf.ts";
import { EMBEDDED_DEFAULT_CONF } from "./defaults.ts";
import { type Diagnostic, formatDiagnostic } from "./diagnostics.ts";
import { parseTomlConfig } from "./toml.ts";

export { renderConfig } from "./render.ts";
export type { ConfParseResult, ConfReader, Diagnostic };
export { formatDiagnostic };

/** The name under which the embedded default appears in messages. */
export const EMBEDDED_CONFIG_NAME = "(embedded default)";

/** True when `path` names a TOML configuration (by extension). */
export function isTomlPath(path: string): boolean {
  return path.toLowerCase().endsWith(".toml");
}

/**
 * Loads a configuration synchronously: `null` parses EMBEDDED_DEFAULT_CONF; a path ending
 * in `.toml` is read as tempus.toml; anything else as chrony.conf (with include, confdir and
 * sourcedir). Never throws: unreadable files are errors in the result.
 */
export function loadConfigSync(
  path: string | null,
  reader: ConfReader = denoConfReader(),
): ConfParseResult {
  if (path === null) return parseChronyConfText(EMBEDDED_DEFAULT_CONF, EMBEDDED_CONFIG_NAME);
  if (isTomlPath(path)) {
    const r = reader.readFile(path);
    if (!r.ok) {
      return { ok: false, errors: [{ file: path, line: null, message: r.error }], warnings: [] };
    }
    return parseTomlConfig(r.text, path, reader);
  }
  return parseChronyConf(path, reader);
}

/** The name under which command-line directives appear in messages. */
export const COMMAND_LINE_CONFIG_NAME = "(command line)";

/**
 * Parses configuration directives given as separate arguments (chronyd's
 * `chronyd -q 'server 192.0.2.1 iburst'`): each argument is one line, and they replace the
 * configuration file. `include`/`confdir`/`sourcedir` read through `reader`.
 */
export function loadConfigLines(
  lines: string[],
  reader: ConfReader = denoConfReader(),
): ConfParseResult {
  return parseChronyConfText(
    lines.map((l) => l.replace(/\n/g, " ")).join("\n"),
    COMMAND_LINE_CONFIG_NAME,
    reader,
  );
}

/** `loadConfigSync` as a promise (the daemon's start-up and reload paths await it). */
export function loadConfig(
  path: string | null,
  reader: ConfReader = denoConfReader(),
): Promise<ConfParseResult> {
  return Promise.resolve(loadConfigSync(path, reader));
}

/** All errors (or warnings) of a result as `file:line: message` lines. */
export function formatDiagnostics(list: Diagnostic[]): string[] {
  return list.map(formatDiagnostic);
}
