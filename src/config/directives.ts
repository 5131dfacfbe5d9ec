/**
 * Applies one chrony.conf directive (name and arguments, already split) to a `Config`.
 * Shared by the chrony.conf parser and the TOML mapping, so both validate identically.
 * `include`, `confdir` and `sourcedir` need file access and live in chrony_conf.ts.
 *
 * @module
 */
import { DEFAULT_LOCAL, DEFAULT_RATE_LIMIT, ORPHAN_WAIT_UNSYNCED } from "./defaults.ts";
import type { AccessRule, Config, LeapSecMode, LocalConfig, LogKind, SourceType } from "./model.ts";
import { parseRefclockArgs } from "./refclock_options.ts";
import { parseSourceArgs } from "./source_options.ts";
import { canonicalIp, parseIpAddress, parseSubnet } from "./subnet.ts";
import { type NumberSpec, parseNumber } from "./values.ts";

/** Where a directive reports problems (messages without location; the caller adds it). */
export interface DirectiveSink {
  /** Records an error: the directive is rejected. */
  error(message: string): void;
  /** Records a warning: the directive is accepted (or harmlessly ignored). */
  warn(message: string): void;
}

/** chrony's legacy directives that it only warns about; tempus does the same. */
export const LEGACY_DIRECTIVES: ReadonlySet<string> = new Set([
  "dumponexit",
  "commandkey",
  "generatecommandkey",
  "linux_freq_scale",
  "linux_hz",
]);

/**
 * Directives accepted with a warning because they have no effect without a feature tempus
 * lacks. `ntsdumpdir` is in Debian's shipped chrony.conf; with no NTS sources (the `nts`
 * option is an error) there is nothing to dump, so ignoring it changes nothing.
 */
export const IGNORED_DIRECTIVES: Readonly<Record<string, string>> = Object.freeze({
  ntsdumpdir: "NTS is not supported; ntsdumpdir ignored",
});

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

const LEAP_MODES: readonly LeapSecMode[] = ["system", "step", "slew", "ignore"];

type Handler = (config: Config, args: string[], sink: DirectiveSink) => void;

function num(
  sink: DirectiveSink,
  directive: string,
  text: string | undefined,
  spec: NumberSpec,
  what = "value",
): number | null {
  if (text === undefined) {
    sink.error(`${directive}: missing ${what}`);
    return null;
  }
  const r = parseNumber(text, `${directive} ${what}`, spec);
  if (!r.ok) {
    sink.error(r.error);
    return null;
  }
  return r.value;
}

function arity(
  sink: DirectiveSink,
  directive: string,
  args: string[],
  min: number,
  max: number,
): boolean {
  if (args.length < min) {
    sink.error(`${directive}: missing argument${min - args.length > 1 ? "s" : ""}`);
    return false;
  }
  if (args.length > max) {
    sink.error(
      max === 0
        ? `${directive}: takes no arguments (got '${args.join(" ")}')`
        : `${directive}: too many arguments ('${args.slice(max).join(" ")}')`,
    );
    return false;
  }
  return true;
}

/** A directive taking one number stored in a Config field. */
function numberField(field: keyof Config, spec: NumberSpec): Handler {
  return (config, args, sink) => {
    const name = fieldDirective(field);
    if (!arity(sink, name, args, 1, 1)) return;
    const v = num(sink, name, args[0], spec);
    if (v !== null) (config as unknown as Record<string, unknown>)[field] = v;
  };
}

/** A directive taking one path or name stored in a Config field. */
function stringField(field: keyof Config): Handler {
  return (config, args, sink) => {
    if (!arity(sink, fieldDirective(field), args, 1, 1)) return;
    (config as unknown as Record<string, unknown>)[field] = args[0];
  };
}

/** A directive without arguments that sets a boolean Config field. */
function flagField(field: keyof Config): Handler {
  return (config, args, sink) => {
    if (!arity(sink, fieldDirective(field), args, 0, 0)) return;
    (config as unknown as Record<string, unknown>)[field] = true;
  };
}

/** Directive names are the Config field names in lower case (maxSlewRate: maxslewrate). */
function fieldDirective(field: keyof Config): string {
  return String(field).toLowerCase();
}

function sourceHandler(type: SourceType): Handler {
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

/** Parses `[all] [subnet]` of allow/deny/cmdallow/cmddeny into a rule, or null on error. */
export function parseAccessArgs(
  directive: string,
  allow: boolean,
  args: string[],
  sink: DirectiveSink,
): AccessRule | null {
  let rest = args;
  let all = false;
  if (rest.length > 0 && rest[0].toLowerCase() === "all") {
    all = true;
    rest = rest.slice(1);
  }
  if (rest.length > 1) {
    sink.error(`${directive}: too many arguments ('${rest.slice(1).join(" ")}')`);
    return null;
  }
  if (rest.length === 0) return { allow, subnet: "all", all };
  const s = parseSubnet(rest[0]);
  if (!s.ok) {
    sink.error(`${directive}: ${s.error}`);
    return null;
  }
  return { allow, subnet: s.value, all };
}

function accessHandler(list: "ntpAccess" | "cmdAccess", allow: boolean, name: string): Handler {
  return (config, args, sink) => {
    const rule = parseAccessArgs(name, allow, args, sink);
    if (rule !== null) config[list].push(rule);
  };
}

/** Replaces the address of the same family in a bind list (chrony: one per family). */
/** binddevice/bindacqdevice/bindcmddevice: an interface name (SO_BINDTODEVICE). */
function deviceField(
  directive: string,
  field: "bindDevice" | "bindAcqDevice" | "bindCmdDevice",
): Handler {
  return (config, args, sink) => {
    if (!arity(sink, directive, args, 1, 1)) return;
    const name = args[0];
    if (name.length === 0 || new TextEncoder().encode(name).length > 15 || /[\s/]/.test(name)) {
      sink.error(`${directive}: invalid interface name '${name}' (1 to 15 bytes)`);
      return;
    }
    config[field] = name;
  };
}

function setBindAddress(list: string[], address: string): string[] {
  const family = parseIpAddress(address)?.family;
  return [...list.filter((a) => parseIpAddress(a)?.family !== family), address];
}

const HANDLERS: Record<string, Handler> = {
  server: sourceHandler("server"),
  pool: sourceHandler("pool"),
  refclock: (config, args, sink) => {
    const r = parseRefclockArgs(args);
    if (r.ok) config.refclocks.push(r.refclock);
    else sink.error(r.error);
  },
  peer: sourceHandler("peer"),

  driftfile: (config, args, sink) => {
    // chrony: "driftfile FILE [interval N]"; the interval may also come first.
    let file: string | null = null;
    for (let i = 0; i < args.length; i++) {
      if (args[i].toLowerCase() === "interval") {
        const v = num(sink, "driftfile", args[i + 1], { int: true, min: 1, max: 1e9 }, "interval");
        if (v === null) return;
        config.driftFileInterval = v;
        i++;
      } else if (file === null) {
        file = args[i];
      } else {
        sink.error(`driftfile: unexpected argument '${args[i]}'`);
        return;
      }
    }
    if (file === null) {
      sink.error("driftfile: missing file name");
      return;
    }
    config.driftFile = file;
  },
  makestep: (config, args, sink) => {
    if (!arity(sink, "makestep", args, 2, 2)) return;
    const threshold = num(sink, "makestep", args[0], { int: false, min: 0 }, "threshold");
    const limit = num(sink, "makestep", args[1], { int: true }, "limit");
    if (threshold !== null && limit !== null) config.makeStep = { threshold, limit };
  },
  maxslewrate: numberField("maxSlewRate", { int: false, min: 0, max: 500000 }),
  maxupdateskew: numberField("maxUpdateSkew", { int: false, min: 0, minExclusive: true }),
  maxchange: (config, args, sink) => {
    if (!arity(sink, "maxchange", args, 3, 3)) return;
    const offset = num(
      sink,
      "maxchange",
      args[0],
      { int: false, min: 0, minExclusive: true },
      "offset",
    );
    const start = num(sink, "maxchange", args[1], { int: true, min: 0 }, "start");
    const ignore = num(sink, "maxchange", args[2], { int: true }, "ignore");
    if (offset !== null && start !== null && ignore !== null) {
      config.maxChange = { offset, start, ignore };
    }
  },
  maxdrift: numberField("maxDrift", { int: false, min: 0, minExclusive: true }),
  maxclockerror: numberField("maxClockError", { int: false, min: 0 }),
  corrtimeratio: numberField("corrTimeRatio", { int: false, min: 0 }),
  clockprecision: numberField("clockPrecision", { int: false, min: 1e-9, max: 1 }),
  maxdistance: numberField("maxDistance", { int: false, min: 0, minExclusive: true }),
  maxjitter: numberField("maxJitter", { int: false, min: 0, minExclusive: true }),
  minsources: numberField("minSources", { int: true, min: 1, max: 256 }),
  maxstratum: numberField("maxStratum", { int: true, min: 1, max: 15 }),
  reselectdist: numberField("reselectDist", { int: false, min: 0 }),
  stratumweight: numberField("stratumWeight", { int: false, min: 0 }),
  combinelimit: numberField("combineLimit", { int: false, min: 0 }),
  minsamples: numberField("minSamples", { int: true, min: 0, max: 64 }),
  maxsamples: numberField("maxSamples", { int: true, min: 0, max: 64 }),
  fallbackdrift: (config, args, sink) => {
    if (!arity(sink, "fallbackdrift", args, 2, 2)) return;
    const min = num(sink, "fallbackdrift", args[0], { int: true, min: 0, max: 30 }, "min-interval");
    const max = num(sink, "fallbackdrift", args[1], { int: true, min: 0, max: 30 }, "max-interval");
    if (min === null || max === null) return;
    if (min === 0 || max === 0) {
      config.fallbackDrift = null; // chrony: 0 disables fallback drifts
    } else if (max < min) {
      sink.error(`fallbackdrift: max-interval ${max} is below min-interval ${min}`);
    } else {
      config.fallbackDrift = { min, max };
    }
  },
  leapsecmode: (config, args, sink) => {
    if (!arity(sink, "leapsecmode", args, 1, 1)) return;
    const mode = args[0].toLowerCase() as LeapSecMode;
    if (!LEAP_MODES.includes(mode)) {
      sink.error(`leapsecmode: unknown mode '${args[0]}' (system, step, slew or ignore)`);
      return;
    }
    config.leapSecMode = mode;
  },
  leapsectz: stringField("leapSecTz"),
  leapseclist: stringField("leapSecList"),
  local: (config, args, sink) => {
    const local: LocalConfig = { ...DEFAULT_LOCAL };
    let waitUnsyncedSet = false;
    const specs: Record<string, [keyof LocalConfig, NumberSpec]> = {
      stratum: ["stratum", { int: true, min: 1, max: 15 }],
      distance: ["distance", { int: false, min: 0 }],
      waitsynced: ["waitSynced", { int: false, min: 0 }],
      waitunsynced: ["waitUnsynced", { int: false, min: 0 }],
      activate: ["activate", { int: false, min: 0 }],
    };
    for (let i = 0; i < args.length; i++) {
      const option = args[i].toLowerCase();
      if (option === "orphan") {
        local.orphan = true;
        continue;
      }
      const spec = Object.hasOwn(specs, option) ? specs[option] : undefined;
      if (spec === undefined) {
        sink.error(`local: unknown option '${args[i]}'`);
        return;
      }
      const v = num(sink, "local", args[i + 1], spec[1], option);
      if (v === null) return;
      (local as unknown as Record<string, number>)[spec[0]] = v;
      if (option === "waitunsynced") waitUnsyncedSet = true;
      i++;
    }
    if (local.orphan && !waitUnsyncedSet) local.waitUnsynced = ORPHAN_WAIT_UNSYNCED;
    config.local = local;
  },
  manual: flagField("manual"),
  rtcsync: flagField("rtcSync"),
  rtcfile: stringField("rtcFile"),
  rtcdevice: stringField("rtcDevice"),
  rtconutc: flagField("rtcOnUtc"),
  rtcautotrim: numberField("rtcAutoTrim", { int: false, min: 0 }),
  hwclockfile: stringField("hwclockFile"),
  port: numberField("port", { int: true, min: 0, max: 65535 }),
  bindaddress: (config, args, sink) => {
    if (!arity(sink, "bindaddress", args, 1, 1)) return;
    const ip = canonicalIp(args[0]);
    if (ip === null) {
      sink.error(`bindaddress: invalid address '${args[0]}'`);
      return;
    }
    config.bindAddresses = setBindAddress(config.bindAddresses, ip);
  },
  bindacqaddress: (config, args, sink) => {
    if (!arity(sink, "bindacqaddress", args, 1, 1)) return;
    const ip = canonicalIp(args[0]);
    if (ip === null) {
      sink.error(`bindacqaddress: invalid address '${args[0]}'`);
      return;
    }
    config.bindAcqAddresses = setBindAddress(config.bindAcqAddresses ?? [], ip);
  },
  binddevice: deviceField("binddevice", "bindDevice"),
  bindacqdevice: deviceField("bindacqdevice", "bindAcqDevice"),
  bindcmddevice: deviceField("bindcmddevice", "bindCmdDevice"),
  dscp: numberField("dscp", { int: true, min: 0, max: 63 }),
  tempcomp: (config, args, sink) => {
    // chrony: "tempcomp FILE INTERVAL T0 K0 K1 K2" or "tempcomp FILE INTERVAL POINTFILE".
    if (args.length !== 6 && args.length !== 3) {
      sink.error("tempcomp: expected FILE INTERVAL T0 K0 K1 K2, or FILE INTERVAL POINTFILE");
      return;
    }
    const interval = num(sink, "tempcomp", args[1], { int: false, min: 0 }, "interval");
    if (interval === null) return;
    const values = [0, 0, 0, 0];
    if (args.length === 6) {
      const names = ["T0", "k0", "k1", "k2"];
      for (let i = 0; i < 4; i++) {
        const v = num(sink, "tempcomp", args[2 + i], { int: false }, names[i]);
        if (v === null) return;
        values[i] = v;
      }
    }
    config.tempComp = {
      file: args[0],
      interval: interval > 0 ? interval : 1.0,
      pointFile: args.length === 3 ? args[2] : null,
      t0: values[0],
      k0: values[1],
      k1: values[2],
      k2: values[3],
    };
  },
  allow: accessHandler("ntpAccess", true, "allow"),
  deny: accessHandler("ntpAccess", false, "deny"),
  ratelimit: (config, args, sink) => {
    const rl = { ...DEFAULT_RATE_LIMIT };
    const specs: Record<string, NumberSpec> = {
      interval: { int: true, min: -19, max: 12 },
      burst: { int: true, min: 1, max: 255 },
      leak: { int: true, min: 1, max: 4 },
      kod: { int: true, min: 0, max: 4 },
    };
    for (let i = 0; i < args.length; i += 2) {
      const option = args[i].toLowerCase();
      const spec = Object.hasOwn(specs, option) ? specs[option] : undefined;
      if (spec === undefined) {
        sink.error(`ratelimit: unknown option '${args[i]}'`);
        return;
      }
      const v = num(sink, "ratelimit", args[i + 1], spec, option);
      if (v === null) return;
      (rl as Record<string, number>)[option] = v;
    }
    config.rateLimit = rl;
  },
  clientloglimit: numberField("clientLogLimit", { int: true, min: 1, max: 2147483648 }),
  noclientlog: flagField("noClientLog"),
  cmdport: numberField("cmdPort", { int: true, min: 0, max: 65535 }),
  bindcmdaddress: (config, args, sink) => {
    if (!arity(sink, "bindcmdaddress", args, 1, 1)) return;
    const a = args[0];
    if (a.startsWith("/")) {
      config.cmdSocket = a === "/" ? null : a;
      return;
    }
    const ip = canonicalIp(a);
    if (ip === null) {
      sink.error(`bindcmdaddress: invalid address '${a}' (an IP address or an absolute path)`);
      return;
    }
    config.bindCmdAddresses = setBindAddress(config.bindCmdAddresses, ip);
  },
  cmdallow: accessHandler("cmdAccess", true, "cmdallow"),
  cmddeny: accessHandler("cmdAccess", false, "cmddeny"),
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
  acquisitionport: (config, args, sink) => {
    // tempus sends each request from its own socket on a random port (chrony's default,
    // acquisitionport 0); one fixed port for all requests is not implemented: an error
    // rather than a setting silently ignored.
    if (!arity(sink, "acquisitionport", args, 1, 1)) return;
    const v = num(sink, "acquisitionport", args[0], { int: true, min: 0, max: 65535 });
    if (v === null) return;
    if (v !== 0) {
      sink.error(
        "acquisitionport: a fixed client port is not supported (tempus uses a random port " +
          "per request, as acquisitionport 0)",
      );
      return;
    }
    config.acquisitionPort = v;
  },
  keyfile: stringField("keyFile"),
  refresh: numberField("refresh", { int: true, min: 0, max: 1e9 }),
  metricsport: numberField("metricsPort", { int: true, min: 0, max: 65535 }),
  bindmetricsaddress: (config, args, sink) => {
    if (!arity(sink, "bindmetricsaddress", args, 1, 1)) return;
    const ip = canonicalIp(args[0]);
    if (ip === null) {
      sink.error(`bindmetricsaddress: invalid address '${args[0]}' (an IP address)`);
      return;
    }
    config.bindMetricsAddress = ip;
  },
  smoothtime: (config, args, sink) => {
    const rest = args.filter((a) => a.toLowerCase() !== "leaponly");
    if (!arity(sink, "smoothtime", rest, 2, 2) || args.length - rest.length > 1) {
      if (args.length - rest.length > 1) sink.error("smoothtime: leaponly given twice");
      return;
    }
    const maxFreq = num(
      sink,
      "smoothtime",
      rest[0],
      { int: false, min: 0, minExclusive: true },
      "max-freq",
    );
    const maxWander = num(
      sink,
      "smoothtime",
      rest[1],
      { int: false, min: 0, minExclusive: true },
      "max-wander",
    );
    if (maxFreq === null || maxWander === null) return;
    config.smoothTime = {
      maxFreqPpm: maxFreq,
      maxWanderPpm: maxWander,
      leapOnly: rest.length !== args.length,
    };
  },
  recordmeasurements: (config, args, sink) => {
    if (!arity(sink, "recordmeasurements", args, 1, 1)) return;
    if (!args[0].startsWith("/")) {
      sink.error(`recordmeasurements: '${args[0]}' is not an absolute path`);
      return;
    }
    config.recordMeasurements = args[0];
  },
  errorboundfile: (config, args, sink) => {
    if (!arity(sink, "errorboundfile", args, 1, 1)) return;
    if (!args[0].startsWith("/")) {
      sink.error(`errorboundfile: '${args[0]}' is not an absolute path`);
      return;
    }
    config.errorBoundFile = args[0];
  },
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
