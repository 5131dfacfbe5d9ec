/**
 * chrony's ADD_SOURCE request (chronyc `add server|pool|peer NAME [options]`) in one table,
 * used both ways: the client turns chronyc's option words into the request (flag bits and
 * value fields, with chronyc's defaults), and the server turns the request into tempus's
 * source options (`SourceParams` fields), leaving out chrony's "not set" encodings so the
 * daemon keeps its defaults. Also the per-source modify requests (chronyc `minpoll`,
 * `maxdelay`, ...) and the `SourceParams` field each one sets.
 *
 * @module
 */
import type { SourceParams, SourceType } from "../config/model.ts";
import { REQ } from "./constants.ts";
import type { AddSourceData } from "./requests.ts";

/** A `SourceParams` field holding a number (or null = not set). */
export type NumericSourceParam = {
  [K in keyof SourceParams]-?: Required<SourceParams>[K] extends boolean ? never : K;
}[keyof SourceParams];

/** A `SourceParams` field holding a flag. */
export type FlagSourceParam = {
  [K in keyof SourceParams]-?: Required<SourceParams>[K] extends boolean ? K : never;
}[keyof SourceParams];

/** Source options of an added source, keyed by `SourceParams` field. */
export type AddSourceOptions =
  & Partial<Record<NumericSourceParam, number>>
  & Partial<Record<FlagSourceParam, boolean>>;

/** REQ_ADDSRC_ONLINE: set unless chronyc's `offline` was given. */
export const ADDSRC_ONLINE = 0x1;

/** A flag option: its bit and the `SourceParams` flag it sets. */
export interface AddSourceFlag {
  /** The REQ_ADDSRC_* bit. */
  readonly bit: number;
  /** The `SourceParams` flag it sets; null when tempus has no such option. */
  readonly param: FlagSourceParam | null;
}

/** chronyc's flag options (candm.h REQ_ADDSRC_*), by option word. */
export const ADD_SOURCE_FLAGS: Readonly<Record<string, AddSourceFlag>> = {
  auto_offline: { bit: 0x2, param: "autoOffline" },
  iburst: { bit: 0x4, param: "iburst" },
  prefer: { bit: 0x8, param: "prefer" },
  noselect: { bit: 0x10, param: "noselect" },
  trust: { bit: 0x20, param: "trust" },
  require: { bit: 0x40, param: "require" },
  xleave: { bit: 0x80, param: "xleave" },
  burst: { bit: 0x100, param: "burst" },
  nts: { bit: 0x200, param: "nts" },
  copy: { bit: 0x400, param: null },
  ipv4: { bit: 0x2000, param: null },
  ipv6: { bit: 0x4000, param: null },
};

/** An ADD_SOURCE field holding a number (everything but the name). */
export type NumericAddSourceField = Exclude<keyof AddSourceData, "name">;

/** A valued option: its request field, chronyc's default, and where tempus keeps it. */
export interface AddSourceValue {
  /** The ADD_SOURCE field. */
  readonly field: NumericAddSourceField;
  /** What chronyc sends when the option is not given. */
  readonly default: number;
  /** The `SourceParams` field it sets; null when tempus has no such option. */
  readonly param: NumericSourceParam | null;
  /** Carried apart from the options (the port goes in `AddSourceRequest.port`). */
  readonly apart?: true;
  /** chrony's "not set" encoding: the daemon keeps its own default. */
  readonly unset?: (value: number) => boolean;
}

/** chronyc's valued options, by option word, in ADD_SOURCE field order. */
export const ADD_SOURCE_VALUES: Readonly<Record<string, AddSourceValue>> = {
  port: { field: "port", default: 123, param: null, apart: true },
  minpoll: { field: "minpoll", default: 6, param: "minPoll" },
  maxpoll: { field: "maxpoll", default: 10, param: "maxPoll" },
  presend: { field: "presendMinpoll", default: 100, param: "presend", unset: (v) => v === 100 },
  minstratum: { field: "minStratum", default: 0, param: "minStratum" },
  polltarget: { field: "pollTarget", default: 8, param: "pollTarget" },
  version: { field: "version", default: 0, param: "version", unset: (v) => v === 0 },
  maxsources: { field: "maxSources", default: 4, param: "maxSources" },
  minsamples: { field: "minSamples", default: -1, param: "minSamples", unset: (v) => v < 0 },
  maxsamples: { field: "maxSamples", default: -1, param: "maxSamples", unset: (v) => v < 0 },
  key: { field: "authkey", default: 0, param: "key", unset: (v) => v === 0 },
  ntsport: { field: "ntsPort", default: 4460, param: "ntsPort", unset: (v) => v === 4460 },
  maxdelay: { field: "maxDelay", default: 3.0, param: "maxDelay" },
  maxdelayratio: { field: "maxDelayRatio", default: 0, param: "maxDelayRatio" },
  maxdelaydevratio: { field: "maxDelayDevRatio", default: 10.0, param: "maxDelayDevRatio" },
  mindelay: { field: "minDelay", default: 0, param: "minDelay", unset: (v) => v === 0 },
  asymmetry: { field: "asymmetry", default: 1.0, param: "asymmetry", unset: (v) => v === 1 },
  offset: { field: "offset", default: 0, param: "offset" },
  filter: { field: "filterLength", default: 0, param: "filter", unset: (v) => v <= 0 },
  certset: { field: "certSet", default: 0, param: null, unset: (v) => v === 0 },
  maxdelayquant: { field: "maxDelayQuant", default: 0, param: null, unset: (v) => v === 0 },
  maxunreach: { field: "maxUnreach", default: 0, param: "maxUnreach", unset: (v) => v <= 0 },
};

/** ADD_SOURCE `type` codes: 1 = server, 2 = peer, 3 = pool. */
const SOURCE_TYPES: readonly SourceType[] = ["server", "peer", "pool"];

/**
 * chronyc's `add server|pool|peer NAME [options]` as ADD_SOURCE request data (what chronyc
 * 4.3 sends), or an error text as chronyc prints it.
 */
export function addSourceRequest(args: string[]): AddSourceData | string {
  const type = SOURCE_TYPES.findIndex((t) => t === args[0]) + 1;
  if (type === 0 || args.length < 2) return "Invalid syntax for add command";
  const name = args[1];
  if (new TextEncoder().encode(name).length >= 256) return "Invalid host/IP address";
  // Every numeric field has its option in ADD_SOURCE_VALUES (add_source_test checks it).
  const values = {} as Record<NumericAddSourceField, number>;
  for (const option of Object.values(ADD_SOURCE_VALUES)) values[option.field] = option.default;
  let flags = ADDSRC_ONLINE;
  for (let i = 2; i < args.length; i++) {
    const word = args[i];
    if (word === "offline") {
      flags &= ~ADDSRC_ONLINE;
    } else if (Object.hasOwn(ADD_SOURCE_FLAGS, word)) {
      flags |= ADD_SOURCE_FLAGS[word].bit;
    } else if (Object.hasOwn(ADD_SOURCE_VALUES, word)) {
      const value = Number(args[++i]);
      if (args[i] === undefined || !Number.isFinite(value)) {
        return `Invalid value for ${word} option`;
      }
      values[ADD_SOURCE_VALUES[word].field] = value;
    } else {
      return `Invalid option ${word}`;
    }
  }
  return { ...values, type, name, flags };
}

/** The source type of an ADD_SOURCE request, or null for an unknown code. */
export function addSourceType(data: AddSourceData): SourceType | null {
  return SOURCE_TYPES[data.type - 1] ?? null;
}

/**
 * The chronyc word of an option in ADD_SOURCE request data that tempus does not implement
 * (`copy`, `ipv4`, `ipv6`, `certset`, `maxdelayquant`), or null. Such a request is
 * refused rather than run without it, as the configuration file refuses these options.
 */
export function unsupportedAddSourceOption(data: AddSourceData): string | null {
  for (const [word, flag] of Object.entries(ADD_SOURCE_FLAGS)) {
    if (flag.param === null && (data.flags & flag.bit) !== 0) return word;
  }
  for (const [word, option] of Object.entries(ADD_SOURCE_VALUES)) {
    if (option.param !== null || option.apart || option.unset === undefined) continue;
    if (!option.unset(data[option.field])) return word;
  }
  return null;
}

/**
 * ADD_SOURCE request data as tempus source options, keyed like `SourceParams` (the daemon's
 * source model). chrony's "not set" encodings (presend 100, min/maxsamples -1, key 0,
 * mindelay 0, asymmetry 1.0, filter 0, version 0, maxunreach 0 from 4.3 clients) are left
 * out so the daemon keeps its defaults.
 */
export function addSourceOptions(data: AddSourceData): AddSourceOptions {
  const options: AddSourceOptions = { offline: (data.flags & ADDSRC_ONLINE) === 0 };
  for (const flag of Object.values(ADD_SOURCE_FLAGS)) {
    if (flag.param !== null) options[flag.param] = (data.flags & flag.bit) !== 0;
  }
  for (const option of Object.values(ADD_SOURCE_VALUES)) {
    if (option.param === null) continue;
    const value = data[option.field];
    if (option.unset === undefined || !option.unset(value)) options[option.param] = value;
  }
  return options;
}

/** The per-source modify requests and the `SourceParams` field each sets. */
export const SOURCE_MODIFIERS = {
  [REQ.MODIFY_MINPOLL]: "minPoll",
  [REQ.MODIFY_MAXPOLL]: "maxPoll",
  [REQ.MODIFY_MAXDELAY]: "maxDelay",
  [REQ.MODIFY_MAXDELAYRATIO]: "maxDelayRatio",
  [REQ.MODIFY_MAXDELAYDEVRATIO]: "maxDelayDevRatio",
  [REQ.MODIFY_MINSTRATUM]: "minStratum",
  [REQ.MODIFY_POLLTARGET]: "pollTarget",
  [REQ.MODIFY_OFFSET]: "offset",
} as const satisfies Readonly<Record<number, NumericSourceParam>>;
