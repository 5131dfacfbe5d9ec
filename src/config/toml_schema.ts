/**
 * The TOML schema: which keys of which tables map onto which chrony directives, and how their
 * values are written as directive arguments. Read by the TOML loader (toml.ts).
 *
 * @module
 */

/** How a key maps to chrony: a directive taking a value of a kind. */
export type Kind = "number" | "string" | "flag" | "strings";

/** A key that maps onto one chrony directive taking a value of one kind. */
export interface KeySpec {
  /** chrony directive applied. */
  directive: string;
  /** What the value must be: a number, a string, a flag (true) or a list of strings. */
  kind: Kind;
  /** "strings" only: each string is the directive's whole argument line (split on spaces). */
  lines?: boolean;
}

/** Keys of a TOML table that map to inline tables of numbers, in directive argument order. */
export interface InlineSpec {
  /** chrony directive applied. */
  directive: string;
  /** The inline table's field names, in the directive's argument order. */
  fields: string[];
  /** Fields that may be left out (then omitted from the directive). */
  optional?: boolean;
  /** Options written as "name value" pairs (ratelimit, local) rather than positionally. */
  named?: boolean;
  /** Boolean-valued named fields ("orphan"). */
  flags?: string[];
  /** `key = true` means the directive without options. */
  allowTrue?: boolean;
}

/** Top-level keys (outside any table). */
export const TOP_LEVEL: Record<string, KeySpec> = {
  pidfile: { directive: "pidfile", kind: "string" },
  user: { directive: "user", kind: "string" },
  keyfile: { directive: "keyfile", kind: "string" },
  dumpdir: { directive: "dumpdir", kind: "string" },
  acquisitionport: { directive: "acquisitionport", kind: "number" },
  refresh: { directive: "refresh", kind: "number" },
  manual: { directive: "manual", kind: "flag" },
  sourcedir: { directive: "sourcedir", kind: "strings" },
};

const CLOCK: Record<string, KeySpec | InlineSpec> = {
  driftfile: { directive: "driftfile", kind: "string" },
  driftfile_interval: { directive: "driftfile_interval", kind: "number" },
  makestep: { directive: "makestep", fields: ["threshold", "limit"] },
  maxslewrate: { directive: "maxslewrate", kind: "number" },
  maxupdateskew: { directive: "maxupdateskew", kind: "number" },
  maxchange: { directive: "maxchange", fields: ["offset", "start", "ignore"] },
  maxdrift: { directive: "maxdrift", kind: "number" },
  maxclockerror: { directive: "maxclockerror", kind: "number" },
  corrtimeratio: { directive: "corrtimeratio", kind: "number" },
  clockprecision: { directive: "clockprecision", kind: "number" },
  fallbackdrift: { directive: "fallbackdrift", fields: ["min", "max"] },
  leapsecmode: { directive: "leapsecmode", kind: "string" },
  leapsectz: { directive: "leapsectz", kind: "string" },
  leapseclist: { directive: "leapseclist", kind: "string" },
};

const SELECTION: Record<string, KeySpec> = {
  combinelimit: { directive: "combinelimit", kind: "number" },
  maxdistance: { directive: "maxdistance", kind: "number" },
  maxjitter: { directive: "maxjitter", kind: "number" },
  minsources: { directive: "minsources", kind: "number" },
  maxstratum: { directive: "maxstratum", kind: "number" },
  reselectdist: { directive: "reselectdist", kind: "number" },
  stratumweight: { directive: "stratumweight", kind: "number" },
  minsamples: { directive: "minsamples", kind: "number" },
  maxsamples: { directive: "maxsamples", kind: "number" },
};

const RTC: Record<string, KeySpec> = {
  sync: { directive: "rtcsync", kind: "flag" },
  file: { directive: "rtcfile", kind: "string" },
  device: { directive: "rtcdevice", kind: "string" },
  onutc: { directive: "rtconutc", kind: "flag" },
  autotrim: { directive: "rtcautotrim", kind: "number" },
  hwclockfile: { directive: "hwclockfile", kind: "string" },
};

const SERVER: Record<string, KeySpec | InlineSpec> = {
  port: { directive: "port", kind: "number" },
  bindaddress: { directive: "bindaddress", kind: "strings" },
  allow: { directive: "allow", kind: "strings" },
  deny: { directive: "deny", kind: "strings" },
  access: { directive: "access", kind: "strings" },
  ratelimit: {
    directive: "ratelimit",
    fields: ["interval", "burst", "leak", "kod"],
    optional: true,
    named: true,
    allowTrue: true,
  },
  clientloglimit: { directive: "clientloglimit", kind: "number" },
  xdpserver: { directive: "xdpserver", kind: "strings" },
  xdpmode: { directive: "xdpmode", kind: "string" },
  noclientlog: { directive: "noclientlog", kind: "flag" },
  smoothtime: {
    directive: "smoothtime",
    fields: ["maxfreq", "maxwander"],
    flags: ["leaponly"],
  },
  local: {
    directive: "local",
    fields: ["stratum", "distance", "waitsynced", "waitunsynced", "activate"],
    flags: ["orphan"],
    optional: true,
    named: true,
    allowTrue: true,
  },
};

const CMD: Record<string, KeySpec> = {
  port: { directive: "cmdport", kind: "number" },
  bindaddress: { directive: "bindcmdaddress", kind: "strings" },
  socket: { directive: "cmdsocket", kind: "string" },
  allow: { directive: "cmdallow", kind: "strings" },
  deny: { directive: "cmddeny", kind: "strings" },
  access: { directive: "cmdaccess", kind: "strings" },
};

const LOG: Record<string, KeySpec> = {
  dir: { directive: "logdir", kind: "string" },
  kinds: { directive: "log", kind: "strings" },
  banner: { directive: "logbanner", kind: "number" },
  change: { directive: "logchange", kind: "number" },
};

const METRICS: Record<string, KeySpec> = {
  port: { directive: "metricsport", kind: "number" },
  bindaddress: { directive: "bindmetricsaddress", kind: "string" },
  errorboundfile: { directive: "errorboundfile", kind: "string" },
  recordmeasurements: { directive: "recordmeasurements", kind: "string" },
};

const NTS: Record<string, KeySpec | InlineSpec> = {
  dumpdir: { directive: "ntsdumpdir", kind: "string" },
  trustedcerts: { directive: "ntstrustedcerts", kind: "strings" },
  nosystemcert: { directive: "nosystemcert", kind: "flag" },
  nocerttimecheck: { directive: "nocerttimecheck", kind: "number" },
  refresh: { directive: "ntsrefresh", kind: "number" },
  serverkey: { directive: "ntsserverkey", kind: "strings" },
  servercert: { directive: "ntsservercert", kind: "strings" },
  port: { directive: "ntsport", kind: "number" },
  rotate: { directive: "ntsrotate", kind: "number" },
  ntpserver: { directive: "ntsntpserver", kind: "string" },
  processes: { directive: "ntsprocesses", kind: "number" },
  ratelimit: {
    directive: "ntsratelimit",
    fields: ["interval", "burst", "leak"],
    optional: true,
    named: true,
    allowTrue: true,
  },
};

/** [mode6]: who may query the mode 6 (ntpq) responder (directives_mode6.ts). */
const MODE6: Record<string, KeySpec> = {
  allow: { directive: "mode6allow", kind: "strings" },
  deny: { directive: "mode6deny", kind: "strings" },
};

/** `[broadcast]`: each string is one directive's argument line (`broadcastclient = [""]`). */
const BROADCAST: Record<string, KeySpec> = {
  broadcast: { directive: "broadcast", kind: "strings", lines: true },
  broadcastclient: { directive: "broadcastclient", kind: "strings", lines: true },
  multicastclient: { directive: "multicastclient", kind: "strings", lines: true },
  broadcastdelay: { directive: "broadcastdelay", kind: "number" },
  manycastserver: { directive: "manycastserver", kind: "strings", lines: true },
  manycastclient: { directive: "manycastclient", kind: "strings", lines: true },
};

/** Every TOML table tempus reads, by name, with the keys it maps onto chrony directives. */
export const SECTIONS: Record<string, Record<string, KeySpec | InlineSpec>> = {
  clock: CLOCK,
  selection: SELECTION,
  rtc: RTC,
  server: SERVER,
  cmd: CMD,
  log: LOG,
  metrics: METRICS,
  nts: NTS,
  mode6: MODE6,
  broadcast: BROADCAST,
};
