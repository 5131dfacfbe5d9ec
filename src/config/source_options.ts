/**
 * The options of chrony's `server`, `pool` and `peer` directives: names, kinds and ranges
 * (chrony 4.x cmdparse.c / chrony.conf(5)), parsed into `SourceParams`.
 *
 * @module
 */
import { DEFAULT_SOURCE_PARAMS } from "./defaults.ts";
import type { SourceParams, SourceType } from "./model.ts";
import { type NumberSpec, parseNumber } from "./values.ts";

/** Flag options (no argument) and the SourceParams field each sets to true. */
export const SOURCE_FLAG_OPTIONS: Readonly<Record<string, keyof SourceParams>> = Object.freeze({
  iburst: "iburst",
  burst: "burst",
  offline: "offline",
  auto_offline: "autoOffline",
  prefer: "prefer",
  noselect: "noselect",
  trust: "trust",
  require: "require",
  xleave: "xleave",
  nts: "nts",
  delaygate: "delayGate",
});

/** Valued options: the SourceParams field and the accepted range. */
export const SOURCE_VALUE_OPTIONS: Readonly<
  Record<string, { field: keyof SourceParams; spec: NumberSpec }>
> = Object.freeze({
  minpoll: { field: "minPoll", spec: { int: true, min: -7, max: 24 } },
  maxpoll: { field: "maxPoll", spec: { int: true, min: -7, max: 24 } },
  polltarget: { field: "pollTarget", spec: { int: true, min: 6, max: 60 } },
  presend: { field: "presend", spec: { int: true, min: -7, max: 24 } },
  maxdelay: { field: "maxDelay", spec: { int: false, min: 0, max: 1000, minExclusive: true } },
  maxdelayratio: { field: "maxDelayRatio", spec: { int: false, min: 0, max: 1e6 } },
  maxdelaydevratio: { field: "maxDelayDevRatio", spec: { int: false, min: 0, max: 1e6 } },
  mindelay: { field: "minDelay", spec: { int: false, min: 0, max: 1000 } },
  asymmetry: { field: "asymmetry", spec: { int: false, min: -0.5, max: 0.5 } },
  offset: { field: "offset", spec: { int: false, min: -1e6, max: 1e6 } },
  minsamples: { field: "minSamples", spec: { int: true, min: 0, max: 64 } },
  maxsamples: { field: "maxSamples", spec: { int: true, min: 0, max: 64 } },
  maxunreach: { field: "maxUnreach", spec: { int: true, min: 0, max: 1e9 } },
  filter: { field: "filter", spec: { int: true, min: 1, max: 1024 } },
  minstratum: { field: "minStratum", spec: { int: true, min: 0, max: 15 } },
  port: { field: "port", spec: { int: true, min: 1, max: 65535 } },
  version: { field: "version", spec: { int: true, min: 1, max: 4 } },
  key: { field: "key", spec: { int: true, min: 1, max: 4294967295 } },
  maxsources: { field: "maxSources", spec: { int: true, min: 1, max: 16 } },
  ntsport: { field: "ntsPort", spec: { int: true, min: 1, max: 65535 } },
});

/** chrony source options tempus does not implement (a clear error, never ignored). */
export const UNSUPPORTED_SOURCE_OPTIONS: ReadonlySet<string> = new Set([
  "certset",
  "extfield",
  "copy",
  "maxdelayquant",
  "ipv4",
  "ipv6",
]);

/** Options chrony accepts in `peer` but which have no effect there. */
const PEER_IGNORED = new Set(["iburst", "burst", "presend"]);

/**
 * Longest source name accepted: a DNS name is at most 253 characters (RFC 1035), and an
 * unbounded one would be echoed into the log at every resolver retry.
 */
export const MAX_HOST_NAME_LENGTH = 253;

/** Result of parsing a source directive's arguments. */
export type SourceParse =
  | { ok: true; name: string; params: SourceParams; warnings: string[] }
  | { ok: false; error: string };

/** Parses `NAME [option]...` of a server/pool/peer directive. */
export function parseSourceArgs(type: SourceType, args: string[]): SourceParse {
  if (args.length === 0) return { ok: false, error: `${type}: missing host name` };
  const name = args[0];
  if (name.length > MAX_HOST_NAME_LENGTH) {
    return {
      ok: false,
      error: `${type}: host name too long (${name.length} characters, at most ` +
        `${MAX_HOST_NAME_LENGTH}): '${name.slice(0, 40)}...'`,
    };
  }
  if (!/^[A-Za-z0-9._:%\[\]-]+$/.test(name)) {
    return { ok: false, error: `${type}: invalid host name '${name}'` };
  }
  const params: SourceParams = { ...DEFAULT_SOURCE_PARAMS };
  const warnings: string[] = [];
  const record = params as unknown as Record<string, number | boolean | null>;
  for (let i = 1; i < args.length; i++) {
    const option = args[i].toLowerCase();
    if (type === "peer" && PEER_IGNORED.has(option)) {
      warnings.push(`${type}: option '${option}' has no effect on a peer`);
    }
    const flag = Object.hasOwn(SOURCE_FLAG_OPTIONS, option)
      ? SOURCE_FLAG_OPTIONS[option]
      : undefined;
    if (flag !== undefined) {
      record[flag] = true;
      continue;
    }
    const valued = Object.hasOwn(SOURCE_VALUE_OPTIONS, option)
      ? SOURCE_VALUE_OPTIONS[option]
      : undefined;
    if (valued !== undefined) {
      if (option === "maxsources" && type !== "pool") {
        return { ok: false, error: `${type}: option 'maxsources' is valid only in pool` };
      }
      const text = args[i + 1];
      if (text === undefined) {
        return { ok: false, error: `${type}: option '${option}' needs a value` };
      }
      const n = parseNumber(text, `${option} value`, valued.spec);
      if (!n.ok) return { ok: false, error: `${type}: ${n.error}` };
      record[valued.field] = n.value;
      i++;
      continue;
    }
    if (UNSUPPORTED_SOURCE_OPTIONS.has(option)) {
      return { ok: false, error: `${type}: option '${option}' is not supported by tempus` };
    }
    return { ok: false, error: `${type}: unknown option '${args[i]}'` };
  }
  if (type === "peer" && (params.nts === true || params.ntsPort !== undefined)) {
    // RFC 8915 defines NTS for client/server mode only (chrony refuses it for peers too).
    return { ok: false, error: `peer: option 'nts' is not supported in symmetric mode` };
  }
  if (params.maxPoll < params.minPoll) {
    warnings.push(
      `${type} ${name}: maxpoll ${params.maxPoll} is below minpoll ${params.minPoll}; ` +
        `using maxpoll ${params.minPoll}`,
    );
    params.maxPoll = params.minPoll;
  }
  if (
    params.minSamples !== null && params.maxSamples !== null &&
    params.maxSamples !== 0 && params.maxSamples < params.minSamples
  ) {
    return {
      ok: false,
      error: `${type}: maxsamples ${params.maxSamples} is below minsamples ${params.minSamples}`,
    };
  }
  return { ok: true, name, params, warnings };
}
