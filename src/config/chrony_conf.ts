/**
 * The chrony.conf parser: reads a configuration as written in the wild (comments starting
 * with # ! ; %, blank lines, case-insensitive directives, include/confdir/sourcedir) into
 * the one typed `Config`. Files are read through an injected `ConfReader`, so the parser is
 * testable without a file system. It never throws on bad input: the result is the config
 * plus warnings, or the list of `file:line` errors.
 *
 * @module
 */
import { defaultConfig } from "./defaults.ts";
import { configWarnings } from "./checks.ts";
import type { Diagnostic } from "./diagnostics.ts";
import { applyDirective, type DirectiveSink } from "./directives.ts";
import type { Config, SourceConfig } from "./model.ts";

/** Read access to configuration files (injected; see `denoConfReader`). */
export interface ConfReader {
  /** The text of a file, or why it could not be read. */
  readFile(path: string): { ok: true; text: string } | { ok: false; error: string };
  /** Entry names (not paths) in a directory, or null if it does not exist or is unreadable. */
  listDir(path: string): string[] | null;
  /** The canonical path (links resolved), to recognise a file included again; optional. */
  realPath?(path: string): string | null;
}

/** Outcome of parsing a configuration. */
export type ConfParseResult =
  | { ok: true; config: Config; warnings: Diagnostic[] }
  | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

/** Deepest include/confdir nesting accepted (chronyd: 10). */
export const MAX_INCLUDE_DEPTH = 10;

/**
 * Errors after which reading stops (chronyd stops at the first; a few more make `config
 * check` useful while a loop or a huge file of junk still ends at once).
 */
export const MAX_CONFIG_ERRORS = 20;

/** Warnings kept; further ones are counted in one last warning. */
export const MAX_CONFIG_WARNINGS = 100;

/** Files read through include/confdir/sourcedir in one configuration, at most. */
export const MAX_CONFIG_FILES = 1000;

/**
 * What a file's invalid UTF-8 bytes are decoded to. A directive holding one is refused: a
 * path in it would silently name a different file than the one written.
 */
export const REPLACEMENT_CHARACTER = "\uFFFD";

/** The error for a line with bytes that are not UTF-8. */
export const NOT_UTF8 = "contains bytes that are not valid UTF-8 (names and paths must be UTF-8)";

/** Directives allowed in `sourcedir` *.sources files. */
const SOURCE_DIRECTIVES = new Set(["server", "pool", "peer"]);

interface ParseState {
  /** The top-level file (cross-checks are reported against it). */
  mainFile: string;
  config: Config;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  reader: ConfReader;
  sourceDirs: string[];
  /** Where the first sourcedir stands (its files are read after the whole configuration). */
  sourceDirLine?: { file: string; line: number };
  /** Where rtcsync / rtcfile were last set (to locate their conflict). */
  rtcLine: { file: string; line: number } | null;
  /** Canonical paths of the files being read, outermost first (to detect include loops). */
  stack: string[];
  /** Files read so far. */
  filesRead: number;
  /** Warnings dropped past MAX_CONFIG_WARNINGS. */
  warningsDropped: number;
  /** Set once MAX_CONFIG_ERRORS is reached: nothing more is read. */
  stopped: boolean;
}

/** Splits a line into chrony tokens; null for blank and comment lines. */
export function tokenizeLine(line: string): string[] | null {
  const trimmed = line.trim();
  if (trimmed === "" || "!;#%".includes(trimmed[0])) return null;
  return trimmed.split(/\s+/);
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** Converts one glob component (* ? [...]) to a RegExp. */
function globToRegExp(component: string): RegExp {
  let re = "^";
  for (let i = 0; i < component.length; i++) {
    const c = component[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = component.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let body = component.slice(i + 1, end);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  try {
    return new RegExp(re + "$");
  } catch {
    // A malformed class such as "[z-a]" matches nothing rather than throwing.
    return /(?!)/;
  }
}

/** Expands a glob pattern (wildcards in any path component) to sorted existing paths. */
export function expandGlob(pattern: string, reader: ConfReader): string[] {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const absolute = pattern.startsWith("/");
  const parts = pattern.split("/").filter((p) => p !== "");
  let candidates = [absolute ? "/" : "."];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const next: string[] = [];
    for (const base of candidates) {
      if (/[*?[]/.test(part)) {
        const names = reader.listDir(base);
        if (names === null) continue;
        const re = globToRegExp(part);
        for (const n of names) {
          if (n.startsWith(".") && !part.startsWith(".")) continue;
          if (re.test(n)) next.push(joinPath(base, n));
        }
      } else {
        next.push(base === "." && !absolute ? part : joinPath(base, part));
      }
    }
    candidates = next;
  }
  return candidates.map((c) => (absolute || !c.startsWith("./") ? c : c.slice(2))).sort();
}

function addError(state: ParseState, d: Diagnostic): void {
  if (state.stopped) return;
  state.errors.push(d);
  if (state.errors.length >= MAX_CONFIG_ERRORS) {
    state.errors.push({
      file: d.file,
      line: d.line,
      message: `too many errors (${MAX_CONFIG_ERRORS}); stopped reading the configuration`,
    });
    state.stopped = true;
  }
}

function addWarning(state: ParseState, d: Diagnostic): void {
  if (state.warnings.length < MAX_CONFIG_WARNINGS) state.warnings.push(d);
  else state.warningsDropped++;
}

function sinkFor(state: ParseState, file: string, line: number): DirectiveSink {
  return {
    error: (message) => addError(state, { file, line, message }),
    warn: (message) => addWarning(state, { file, line, message }),
  };
}

/** Files to include from confdir/sourcedir directories: first directory wins per name. */
function filesInDirs(dirs: string[], suffix: string, reader: ConfReader): string[] {
  const chosen = new Map<string, string>();
  for (const dir of dirs) {
    const names = reader.listDir(dir);
    if (names === null) continue;
    for (const name of names.slice().sort()) {
      if (!name.endsWith(suffix) || name.startsWith(".") || chosen.has(name)) continue;
      chosen.set(name, joinPath(dir, name));
    }
  }
  return [...chosen.keys()].sort().map((name) => chosen.get(name) as string);
}

function parseText(
  state: ParseState,
  text: string,
  file: string,
  depth: number,
  sourcesOnly: boolean,
): void {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length && !state.stopped; i++) {
    const lineNo = i + 1;
    const tokens = tokenizeLine(lines[i].replace(/\r$/, ""));
    if (tokens === null) continue;
    const [name, ...args] = tokens;
    const directive = name.toLowerCase();
    const sink = sinkFor(state, file, lineNo);
    if (lines[i].includes(REPLACEMENT_CHARACTER)) {
      sink.error(NOT_UTF8);
      continue;
    }
    if (sourcesOnly && !SOURCE_DIRECTIVES.has(directive)) {
      sink.error(`'${name}' is not allowed in a sources file (only server, pool and peer)`);
      continue;
    }
    if (directive === "include" || directive === "confdir" || directive === "sourcedir") {
      if (args.length === 0) {
        sink.error(`${directive}: missing ${directive === "include" ? "pattern" : "directory"}`);
        continue;
      }
      if (depth >= MAX_INCLUDE_DEPTH) {
        sink.error(`${directive}: nesting deeper than ${MAX_INCLUDE_DEPTH} (include loop?)`);
        continue;
      }
      if (directive === "include") {
        if (args.length > 1) {
          sink.error(`include: too many arguments ('${args.slice(1).join(" ")}')`);
          continue;
        }
        for (const path of expandGlob(args[0], state.reader)) {
          parseFile(state, path, depth + 1, false, { file, line: lineNo });
        }
      } else if (directive === "confdir") {
        for (const path of filesInDirs(args, ".conf", state.reader)) {
          parseFile(state, path, depth + 1, false, { file, line: lineNo });
        }
      } else {
        // As chronyd: the *.sources files are read after the whole configuration.
        for (const d of args) if (!state.sourceDirs.includes(d)) state.sourceDirs.push(d);
        state.sourceDirLine ??= { file, line: lineNo };
      }
      continue;
    }
    const before = state.config.sources.length;
    const refclocksBefore = state.config.refclocks.length;
    applyDirective(state.config, name, args, sink);
    for (let r = refclocksBefore; r < state.config.refclocks.length; r++) {
      state.config.refclocks[r].origin = `${file}:${lineNo}`;
    }
    if (directive === "rtcsync" || directive === "rtcfile") state.rtcLine = { file, line: lineNo };
    for (let s = before; s < state.config.sources.length; s++) {
      state.config.sources[s].origin = `${file}:${lineNo}`;
    }
  }
}

function parseFile(
  state: ParseState,
  path: string,
  depth: number,
  sourcesOnly: boolean,
  from: { file: string; line: number } | null,
): void {
  if (state.stopped) return;
  const where = from ?? { file: path, line: null };
  const canonical = state.reader.realPath?.(path) ?? path;
  const seen = state.stack.indexOf(canonical);
  if (seen >= 0) {
    const chain = [...state.stack.slice(seen), canonical].join(" -> ");
    addError(state, { ...where, message: `include loop: ${chain}` });
    return;
  }
  if (++state.filesRead > MAX_CONFIG_FILES) {
    addError(state, {
      ...where,
      message: `more than ${MAX_CONFIG_FILES} configuration files; stopped reading`,
    });
    state.stopped = true;
    return;
  }
  const r = state.reader.readFile(path);
  if (!r.ok) {
    if (from === null) addError(state, { file: path, line: null, message: r.error });
    else addError(state, { ...from, message: `cannot read '${path}': ${r.error}` });
    return;
  }
  state.stack.push(canonical);
  try {
    parseText(state, r.text, path, depth, sourcesOnly);
  } finally {
    state.stack.pop();
  }
}

function finish(state: ParseState): ConfParseResult {
  const c = state.config;
  if (state.sourceDirLine !== undefined && !state.stopped) {
    for (const path of filesInDirs(state.sourceDirs, ".sources", state.reader)) {
      parseFile(state, path, 1, true, state.sourceDirLine);
    }
  }
  if (c.rtcSync && c.rtcFile !== null && !state.stopped) {
    state.errors.push({
      file: state.rtcLine?.file ?? "(configuration)",
      line: state.rtcLine?.line ?? null,
      message: "rtcsync cannot be used together with rtcfile",
    });
  }
  for (const message of configWarnings(c)) {
    state.warnings.push({ file: state.mainFile, line: null, message });
  }
  if (state.warningsDropped > 0) {
    state.warnings.push({
      file: state.mainFile,
      line: null,
      message: `${state.warningsDropped} more warnings not shown`,
    });
  }
  if (state.sourceDirs.length > 0) c.sourceDirs = state.sourceDirs;
  if (state.errors.length > 0) {
    return { ok: false, errors: state.errors, warnings: state.warnings };
  }
  return { ok: true, config: c, warnings: state.warnings };
}

function newState(reader: ConfReader, mainFile: string): ParseState {
  return {
    mainFile,
    config: defaultConfig(),
    errors: [],
    warnings: [],
    reader,
    sourceDirs: [],
    rtcLine: null,
    stack: [],
    filesRead: 0,
    warningsDropped: 0,
    stopped: false,
  };
}

/** Parses the chrony.conf file at `path` (and everything it includes). */
export function parseChronyConf(path: string, reader: ConfReader): ConfParseResult {
  const state = newState(reader, path);
  parseFile(state, path, 0, false, null);
  return finish(state);
}

/** Parses chrony.conf text; `file` names it in messages; includes go through `reader`. */
export function parseChronyConfText(
  text: string,
  file: string,
  reader: ConfReader = NO_FILES,
): ConfParseResult {
  const state = newState(reader, file);
  parseText(state, text, file, 0, false);
  return finish(state);
}

/**
 * Reads the *.sources files of `dirs` (for start-up and chronyc's `reload sources`):
 * only server/pool/peer lines are allowed.
 */
export function readSourceDirs(
  dirs: string[],
  reader: ConfReader,
): { sources: SourceConfig[]; errors: Diagnostic[]; warnings: Diagnostic[] } {
  const state = newState(reader, dirs.join(" "));
  for (const path of filesInDirs(dirs, ".sources", reader)) {
    parseFile(state, path, 1, true, null);
  }
  return { sources: state.config.sources, errors: state.errors, warnings: state.warnings };
}

/** A reader that has no files (for parsing standalone text). */
export const NO_FILES: ConfReader = {
  readFile: (path) => ({ ok: false, error: `no such file: ${path}` }),
  listDir: () => null,
};

/** The real file system through Deno (synchronous: configuration is read once). */
export function denoConfReader(): ConfReader {
  return {
    readFile(path) {
      try {
        return { ok: true, text: Deno.readTextFileSync(path) };
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return { ok: false, error: "no such file" };
        if (e instanceof Deno.errors.PermissionDenied) {
          return { ok: false, error: "permission denied" };
        }
        if (e instanceof Deno.errors.IsADirectory) return { ok: false, error: "is a directory" };
        return { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
    },
    realPath(path) {
      try {
        return Deno.realPathSync(path);
      } catch {
        return null;
      }
    },
    listDir(path) {
      try {
        const names: string[] = [];
        for (const entry of Deno.readDirSync(path)) names.push(entry.name);
        return names;
      } catch {
        return null;
      }
    },
  };
}
