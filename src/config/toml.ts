/**
 * The TOML form of the configuration (`tempus.toml`): the same `Config` model, mapped onto
 * chrony's directives so both formats validate identically. This is the only module that
 * imports smol-toml. Unknown keys and wrong types are errors naming the key path and, when
 * it can be found, the line. The mapping is documented in dist/tempus.toml.
 *
 * ```toml
 * pidfile = "/run/tempus/tempus.pid"       # top level: pidfile user keyfile dumpdir
 *                                          #   acquisitionport refresh manual sourcedir
 * [[refclock]]                             # driver = "SHM" | "SOCK", parameter = "0",
 * refid = "GPS"                            #   and the refclock options by their chrony names
 * [[source]]                               # one table per server/pool/peer
 * type = "pool"                            # "server" | "pool" | "peer"
 * name = "pool.ntp.org"
 * iburst = true                            # every chrony option by its chrony name
 * [clock]                                  # driftfile, makestep = { threshold, limit } ...
 * [selection]                              # maxdistance, minsources ...
 * [rtc]                                    # sync, file, device, onutc, autotrim, hwclockfile
 * [server]                                 # port, bindaddress, allow, deny, access, ratelimit,
 *                                          #   clientloglimit, noclientlog, local
 * [cmd]                                    # port, bindaddress, socket, allow, deny, access
 * [log]                                    # dir, kinds, banner, change
 * [broadcast]                              # broadcast, broadcastclient, multicastclient,
 *                                          #   manycastserver, manycastclient: arrays of
 *                                          #   argument lines; broadcastdelay: a number
 * ```
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import {
  type ConfParseResult,
  type ConfReader,
  MAX_CONFIG_ERRORS,
  MAX_CONFIG_WARNINGS,
  NO_FILES,
  NOT_UTF8,
  readSourceDirs,
  REPLACEMENT_CHARACTER,
} from "./chrony_conf.ts";
import { configWarnings } from "./checks.ts";
import { defaultConfig } from "./defaults.ts";
import type { Diagnostic } from "./diagnostics.ts";
import { applyDirective, type DirectiveSink } from "./directives.ts";
import type { Config } from "./model.ts";
import { SOURCE_FLAG_OPTIONS, SOURCE_VALUE_OPTIONS } from "./source_options.ts";
import { type InlineSpec, type KeySpec, SECTIONS, TOP_LEVEL } from "./toml_schema.ts";
import { formatKeyPath, indexKeys, type KeyIndex, type KeyPath, lineOf } from "./toml_keys.ts";

interface Ctx {
  config: Config;
  file: string;
  text: string;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** Built on first use (only needed for messages and source origins). */
  index: KeyIndex | null;
  /** Reads sourcedir files. */
  reader: ConfReader;
  /** Diagnostics dropped past MAX_CONFIG_ERRORS / MAX_CONFIG_WARNINGS. */
  dropped: number;
}

function keyIndex(ctx: Ctx): KeyIndex {
  if (ctx.index === null) ctx.index = indexKeys(ctx.text);
  return ctx.index;
}

function report(ctx: Ctx, path: KeyPath, message: string, warning = false): void {
  // Bounded like chrony.conf: past the limits, diagnostics are only counted.
  if (
    warning ? ctx.warnings.length >= MAX_CONFIG_WARNINGS : ctx.errors.length >= MAX_CONFIG_ERRORS
  ) {
    ctx.dropped++;
    return;
  }
  const d: Diagnostic = {
    file: ctx.file,
    line: lineOf(keyIndex(ctx), path),
    message: `${formatKeyPath(path)}: ${message}`,
  };
  (warning ? ctx.warnings : ctx.errors).push(d);
}

function sinkAt(ctx: Ctx, path: KeyPath): DirectiveSink {
  return {
    error: (m) => report(ctx, path, m),
    warn: (m) => report(ctx, path, m, true),
  };
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  if (typeof v === "object") return "a table";
  return `a ${typeof v}`;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function numberToken(v: unknown): string | null {
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "bigint") return v.toString();
  return null;
}

function applyKey(ctx: Ctx, path: KeyPath, spec: KeySpec, value: unknown): void {
  const sink = sinkAt(ctx, path);
  const c = ctx.config;
  switch (spec.kind) {
    case "number": {
      const t = numberToken(value);
      if (t === null) return report(ctx, path, `expected a number, got ${typeName(value)}`);
      if (spec.directive === "driftfile_interval") {
        if (!(Number.isInteger(Number(t)) && Number(t) >= 1)) {
          return report(ctx, path, `invalid interval ${t} (an integer >= 1)`);
        }
        c.driftFileInterval = Number(t);
        return;
      }
      return applyDirective(c, spec.directive, [t], sink);
    }
    case "string": {
      if (typeof value === "boolean" && spec.directive === "cmdsocket" && !value) {
        c.cmdSocket = null;
        return;
      }
      if (typeof value !== "string" || value === "") {
        return report(ctx, path, `expected a non-empty string, got ${typeName(value)}`);
      }
      if (/\s/.test(value) && spec.directive !== "leapsectz") {
        return report(ctx, path, "must not contain white space");
      }
      if (spec.directive === "cmdsocket") {
        if (!value.startsWith("/")) return report(ctx, path, "must be an absolute path");
        return applyDirective(c, "bindcmdaddress", [value], sink);
      }
      return applyDirective(c, spec.directive, [value], sink);
    }
    case "flag": {
      if (typeof value !== "boolean") {
        return report(ctx, path, `expected true or false, got ${typeName(value)}`);
      }
      if (value) applyDirective(c, spec.directive, [], sink);
      else {
        const field: Record<string, keyof Config> = {
          manual: "manual",
          rtcsync: "rtcSync",
          rtconutc: "rtcOnUtc",
          noclientlog: "noClientLog",
        };
        (c as unknown as Record<string, unknown>)[field[spec.directive]] = false;
      }
      return;
    }
    case "strings": {
      if (!Array.isArray(value)) {
        return report(ctx, path, `expected an array of strings, got ${typeName(value)}`);
      }
      if (spec.directive === "bindaddress") c.bindAddresses = [];
      if (spec.directive === "bindcmdaddress") c.bindCmdAddresses = [];
      if (spec.directive === "log") c.logKinds = [];
      if (spec.directive === "sourcedir") {
        const dirs = value.filter((d): d is string => typeof d === "string" && d !== "");
        if (dirs.length !== value.length) {
          return report(ctx, path, "expected an array of directory names");
        }
        const r = readSourceDirs(dirs, ctx.reader);
        for (const d of [...r.errors, ...r.warnings]) {
          (r.errors.includes(d) ? ctx.errors : ctx.warnings).push(d);
        }
        c.sources.push(...r.sources);
        c.sourceDirs = [...(c.sourceDirs ?? []), ...dirs];
        return;
      }
      value.forEach((item, i) => {
        const p = [...path, i];
        if (typeof item !== "string") {
          return report(ctx, p, `expected a string, got ${typeName(item)}`);
        }
        const words = item.trim().split(/\s+/).filter((w) => w !== "");
        const s = sinkAt(ctx, p);
        if (spec.directive === "access" || spec.directive === "cmdaccess") {
          const [verb, ...rest] = words;
          if (verb === undefined || !["allow", "deny"].includes(verb.toLowerCase())) {
            return report(ctx, p, `expected "allow [all] [SUBNET]" or "deny [all] [SUBNET]"`);
          }
          const directive = spec.directive === "access" ? verb : `cmd${verb.toLowerCase()}`;
          return applyDirective(c, directive, rest, s);
        }
        if (spec.directive === "bindcmdaddress" && item.startsWith("/")) {
          return report(ctx, p, "use cmd.socket for the Unix socket path");
        }
        if (
          spec.lines === true ||
          spec.directive === "allow" || spec.directive === "deny" ||
          spec.directive === "cmdallow" || spec.directive === "cmddeny" ||
          spec.directive === "mode6allow" || spec.directive === "mode6deny"
        ) {
          return applyDirective(c, spec.directive, words, s);
        }
        if (words.length !== 1) return report(ctx, p, "expected a single word");
        applyDirective(c, spec.directive, words, s);
      });
      return;
    }
  }
}

function applyInline(ctx: Ctx, path: KeyPath, spec: InlineSpec, value: unknown): void {
  const sink = sinkAt(ctx, path);
  if (value === true && spec.allowTrue) return applyDirective(ctx.config, spec.directive, [], sink);
  if (value === false && spec.allowTrue) {
    if (spec.directive === "ratelimit") ctx.config.rateLimit = null;
    if (spec.directive === "local") ctx.config.local = null;
    return;
  }
  if (!isTable(value)) {
    return report(
      ctx,
      path,
      `expected a table { ${spec.fields.join(", ")} }${spec.allowTrue ? " or true" : ""}, ` +
        `got ${typeName(value)}`,
    );
  }
  const args: string[] = [];
  for (const key of Object.keys(value)) {
    if (!spec.fields.includes(key) && !(spec.flags ?? []).includes(key)) {
      report(
        ctx,
        [...path, key],
        `unknown key (expected ${[...spec.fields, ...(spec.flags ?? [])].join(", ")})`,
      );
      return;
    }
  }
  for (const flag of spec.flags ?? []) {
    if (flag in value) {
      if (typeof value[flag] !== "boolean") {
        return report(ctx, [...path, flag], `expected true or false, got ${typeName(value[flag])}`);
      }
      if (value[flag]) args.push(flag);
    }
  }
  for (const f of spec.fields) {
    if (!(f in value)) {
      if (spec.optional) continue;
      return report(ctx, path, `missing key '${f}'`);
    }
    const t = numberToken(value[f]);
    if (t === null) {
      return report(ctx, [...path, f], `expected a number, got ${typeName(value[f])}`);
    }
    if (spec.named) args.push(f);
    args.push(t);
  }
  applyDirective(ctx.config, spec.directive, args, sink);
}

function applyTable(
  ctx: Ctx,
  path: KeyPath,
  table: Record<string, unknown>,
  specs: Record<string, KeySpec | InlineSpec>,
): void {
  for (const [key, value] of Object.entries(table)) {
    const spec = Object.hasOwn(specs, key) ? specs[key] : undefined;
    const p = [...path, key];
    if (spec === undefined) {
      report(ctx, p, `unknown key (expected one of: ${Object.keys(specs).join(", ")})`);
    } else if ("fields" in spec) applyInline(ctx, p, spec, value);
    else applyKey(ctx, p, spec, value);
  }
}

/** `[[refclock]]` tables: driver, parameter and chrony's refclock options by name. */
function applyRefclocks(ctx: Ctx, value: unknown): void {
  if (!Array.isArray(value)) {
    return report(
      ctx,
      ["refclock"],
      `expected an array of tables ([[refclock]]), got ${typeName(value)}`,
    );
  }
  value.forEach((entry, i) => {
    const path: KeyPath = ["refclock", i];
    if (!isTable(entry)) return report(ctx, path, `expected a table, got ${typeName(entry)}`);
    if (typeof entry.driver !== "string" || entry.driver === "") {
      return report(ctx, [...path, "driver"], "missing or invalid driver name");
    }
    const param = typeof entry.parameter === "number" ? String(entry.parameter) : entry.parameter;
    if (typeof param !== "string" || param === "") {
      return report(ctx, [...path, "parameter"], "missing or invalid driver parameter");
    }
    const args = [entry.driver, param];
    for (const [key, v] of Object.entries(entry)) {
      if (key === "driver" || key === "parameter") continue;
      const p = [...path, key];
      if (typeof v === "boolean") {
        if (v) args.push(key);
      } else if (typeof v === "string") args.push(key, v);
      else {
        const t = numberToken(v);
        if (t === null) return report(ctx, p, `expected a number, got ${typeName(v)}`);
        args.push(key, t);
      }
    }
    const before = ctx.config.refclocks.length;
    applyDirective(ctx.config, "refclock", args, sinkAt(ctx, path));
    const line = lineOf(keyIndex(ctx), path);
    for (let r = before; r < ctx.config.refclocks.length; r++) {
      ctx.config.refclocks[r].origin = `${ctx.file}:${line ?? 0}`;
    }
  });
}

function applySources(ctx: Ctx, value: unknown): void {
  if (!Array.isArray(value)) {
    return report(
      ctx,
      ["source"],
      `expected an array of tables ([[source]]), got ${typeName(value)}`,
    );
  }
  value.forEach((entry, i) => {
    const path: KeyPath = ["source", i];
    if (!isTable(entry)) return report(ctx, path, `expected a table, got ${typeName(entry)}`);
    const type = entry.type ?? "server";
    if (type !== "server" && type !== "pool" && type !== "peer") {
      return report(ctx, [...path, "type"], `expected "server", "pool" or "peer"`);
    }
    if (typeof entry.name !== "string" || entry.name === "") {
      return report(ctx, [...path, "name"], "missing or invalid host name");
    }
    const args = [entry.name];
    for (const [key, v] of Object.entries(entry)) {
      if (key === "type" || key === "name") continue;
      const p = [...path, key];
      if (Object.hasOwn(SOURCE_FLAG_OPTIONS, key)) {
        if (typeof v !== "boolean") {
          return report(ctx, p, `expected true or false, got ${typeName(v)}`);
        }
        if (v) args.push(key);
      } else if (Object.hasOwn(SOURCE_VALUE_OPTIONS, key)) {
        const t = numberToken(v);
        if (t === null) return report(ctx, p, `expected a number, got ${typeName(v)}`);
        args.push(key, t);
      } else {
        return report(ctx, p, "unknown source option");
      }
    }
    const before = ctx.config.sources.length;
    applyDirective(ctx.config, type, args, sinkAt(ctx, path));
    const line = lineOf(keyIndex(ctx), path);
    for (let s = before; s < ctx.config.sources.length; s++) {
      ctx.config.sources[s].origin = `${ctx.file}:${line ?? 0}`;
    }
  });
}

/**
 * Parses tempus.toml text into a Config; `file` names it in messages; `sourcedir`
 * directories are read through `reader`. Never throws.
 */
export function parseTomlConfig(
  text: string,
  file: string,
  reader: ConfReader = NO_FILES,
): ConfParseResult {
  const ctx: Ctx = {
    config: defaultConfig(),
    file,
    text,
    errors: [],
    warnings: [],
    index: null,
    reader,
    dropped: 0,
  };
  const bad = text.indexOf(REPLACEMENT_CHARACTER);
  if (bad >= 0) {
    const line = text.slice(0, bad).split("\n").length;
    return { ok: false, errors: [{ file, line, message: NOT_UTF8 }], warnings: [] };
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split("\n")[0];
      ctx.errors.push({ file, line: e.line ?? null, message: `TOML syntax error: ${first}` });
    } else {
      ctx.errors.push({ file, line: null, message: `TOML error: ${String(e)}` });
    }
    return { ok: false, errors: ctx.errors, warnings: ctx.warnings };
  }
  for (const [key, value] of Object.entries(doc)) {
    if (ctx.errors.length >= MAX_CONFIG_ERRORS) break;
    if (key === "source") applySources(ctx, value);
    else if (key === "refclock") applyRefclocks(ctx, value);
    else if (Object.hasOwn(SECTIONS, key)) {
      if (!isTable(value)) report(ctx, [key], `expected a table, got ${typeName(value)}`);
      else applyTable(ctx, [key], value, SECTIONS[key]);
    } else if (Object.hasOwn(TOP_LEVEL, key)) applyKey(ctx, [key], TOP_LEVEL[key], value);
    else {
      report(
        ctx,
        [key],
        `unknown key (expected one of: source, refclock, ${Object.keys(SECTIONS).join(", ")}, ` +
          `${Object.keys(TOP_LEVEL).join(", ")})`,
      );
    }
  }
  const c = ctx.config;
  if (c.rtcSync && c.rtcFile !== null) {
    report(ctx, ["rtc"], "rtc.sync cannot be used together with rtc.file");
  }
  for (const message of configWarnings(c)) ctx.warnings.push({ file, line: null, message });
  if (ctx.errors.length >= MAX_CONFIG_ERRORS || ctx.dropped > 0) {
    const message = ctx.errors.length >= MAX_CONFIG_ERRORS
      ? `too many errors (${MAX_CONFIG_ERRORS}); stopped reading the configuration`
      : `${ctx.dropped} more warnings not shown`;
    (ctx.errors.length >= MAX_CONFIG_ERRORS ? ctx.errors : ctx.warnings).push({
      file,
      line: null,
      message,
    });
  }
  if (ctx.errors.length > 0) return { ok: false, errors: ctx.errors, warnings: ctx.warnings };
  return { ok: true, config: c, warnings: ctx.warnings };
}
