/**
 * Applies one chrony.conf directive (name and arguments, already split) to a `Config`.
 * Shared by the chrony.conf parser and the TOML mapping, so both validate identically.
 * `include`, `confdir` and `sourcedir` need file access and live in chrony_conf.ts. The
 * handlers live by area (directives_clock.ts, directives_network.ts, and one module per
 * further area); this module holds the sources, files and logs, and assembles the table.
 *
 * @module
 */
import {
  absolutePathField,
  type DirectiveHandler,
  type DirectiveSink,
  type DirectiveTable,
  numberField,
  stringField,
} from "./directive_kit.ts";
import { BROADCAST_DIRECTIVES } from "./directives_broadcast.ts";
import { CLOCK_DIRECTIVES } from "./directives_clock.ts";
import { MODE6_DIRECTIVES } from "./directives_mode6.ts";
import { NETWORK_DIRECTIVES } from "./directives_network.ts";
import { NTS_DIRECTIVES } from "./directives_nts.ts";
import type { Config, LogKind, SourceType } from "./model.ts";
import { parseRefclockArgs } from "./refclock_options.ts";
import { parseSourceArgs } from "./source_options.ts";

export type { DirectiveSink } from "./directive_kit.ts";

/** chrony's legacy directives that it only warns about; tempus does the same. */
export const LEGACY_DIRECTIVES: ReadonlySet<string> = new Set([
  "dumponexit",
  "commandkey",
  "generatecommandkey",
  "linux_freq_scale",
  "linux_hz",
]);

/** Directives accepted with a warning because they have no effect without a feature tempus lacks. */
export const IGNORED_DIRECTIVES: Readonly<Record<string, string>> = Object.freeze({});

/** Every log kind of the `log` directive tempus writes. */
export const LOG_KINDS: readonly LogKind[] = [
  "measurements",
  "statistics",
  "tracking",
  "rtc",
  "refclocks",
  "rawmeasurements",
  "selection",
  "tempcomp",
];

function sourceHandler(type: SourceType): DirectiveHandler {
  return (config, args, sink) => {
    const r = parseSourceArgs(type, args);
    if (!r.ok) {
      sink.error(r.error);
      return;
    }
    for (const w of r.warnings) sink.warn(w);
    config.sources.push({ type, name: r.name, params: r.params, origin: "" });
  };
}

const HANDLERS: DirectiveTable = {
  ...CLOCK_DIRECTIVES,
  ...NETWORK_DIRECTIVES,
  ...NTS_DIRECTIVES,
  ...MODE6_DIRECTIVES,
  ...BROADCAST_DIRECTIVES,
  server: sourceHandler("server"),
  pool: sourceHandler("pool"),
  refclock: (config, args, sink) => {
    const r = parseRefclockArgs(args);
    if (r.ok) config.refclocks.push(r.refclock);
    else sink.error(r.error);
  },
  peer: sourceHandler("peer"),

  logdir: stringField("logDir"),
  log: (config, args, sink) => {
    for (const a of args) {
      const kind = a.toLowerCase() as LogKind;
      if (!LOG_KINDS.includes(kind)) {
        sink.error(`log: unknown log '${a}' (${LOG_KINDS.join(", ")})`);
        return;
      }
      if (!config.logKinds.includes(kind)) config.logKinds.push(kind);
    }
  },
  logbanner: numberField("logBanner", { int: true, min: 0, max: 1e9 }),
  logchange: numberField("logChange", { int: false, min: 0 }),
  pidfile: stringField("pidFile"),
  dumpdir: stringField("dumpDir"),
  user: stringField("user"),
  keyfile: stringField("keyFile"),
  refresh: numberField("refresh", { int: true, min: 0, max: 1e9 }),
  recordmeasurements: absolutePathField("recordMeasurements"),
  errorboundfile: absolutePathField("errorBoundFile"),
};

/** Names of every directive `applyDirective` implements. */
export const IMPLEMENTED_DIRECTIVES: readonly string[] = Object.keys(HANDLERS);

/**
 * Applies directive `name` (any case) with `args` to `config`. Unknown directives, bad
 * values and unsupported features are reported to `sink.error`; legacy and harmless ones to
 * `sink.warn`. Never throws.
 */
export function applyDirective(
  config: Config,
  name: string,
  args: string[],
  sink: DirectiveSink,
): void {
  const directive = name.toLowerCase();
  const handler = Object.hasOwn(HANDLERS, directive) ? HANDLERS[directive] : undefined;
  if (handler !== undefined) {
    handler(config, args, sink);
    return;
  }
  if (LEGACY_DIRECTIVES.has(directive)) {
    sink.warn(`${directive}: obsolete directive ignored`);
    return;
  }
  if (Object.hasOwn(IGNORED_DIRECTIVES, directive)) {
    sink.warn(IGNORED_DIRECTIVES[directive]);
    return;
  }
  sink.error(`unknown or unsupported directive '${name}'`);
}
