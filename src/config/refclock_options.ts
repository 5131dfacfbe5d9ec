/**
 * `refclock DRIVER PARAMETER [OPTIONS]` (chrony's parse_refclock) for the drivers tempus
 * implements, SHM and SOCK. chrony's other drivers (PPS, PHC, RTC) and the options that only
 * make sense for them or that tempus does not implement yet (lock, rate, pps, width,
 * maxlockage, local, tai) are errors, never accepted and ignored. SHM takes chrony's
 * `UNIT:perm=MODE`; SOCK driver options do not exist in chrony 4.3 and are errors.
 *
 * @module
 */
import { DEFAULT_SOURCE_PARAMS } from "./defaults.ts";
import type { RefclockConfig, RefclockDriver } from "./model.ts";
import { type NumberSpec, parseNumber } from "./values.ts";

/** chrony's refclock defaults. */
export const DEFAULT_REFCLOCK: Readonly<Omit<RefclockConfig, "driver" | "parameter" | "origin">> =
  Object.freeze({
    poll: 4,
    dpoll: 0,
    filter: 64,
    refId: null,
    offset: 0,
    delay: 1e-9,
    precision: 0,
    stratum: 0,
    maxDispersion: 0,
    prefer: false,
    noselect: false,
    trust: false,
    require: false,
    minSamples: null,
    maxSamples: null,
    maxUnreach: DEFAULT_SOURCE_PARAMS.maxUnreach,
  });

const DRIVERS: readonly RefclockDriver[] = ["SHM", "SOCK"];
const OTHER_DRIVERS = ["PPS", "PHC", "RTC"];

/** Options chrony has that tempus does not implement yet. */
const NOT_IMPLEMENTED = ["lock", "rate", "pps", "width", "maxlockage", "local", "tai"];

type NumericKey =
  | "poll"
  | "dpoll"
  | "filter"
  | "offset"
  | "delay"
  | "precision"
  | "stratum"
  | "maxDispersion"
  | "minSamples"
  | "maxSamples"
  | "maxUnreach";

const NUMERIC: Readonly<Record<string, { key: NumericKey; spec: NumberSpec }>> = {
  poll: { key: "poll", spec: { int: true, min: -6, max: 24 } },
  dpoll: { key: "dpoll", spec: { int: true, min: -6, max: 24 } },
  filter: { key: "filter", spec: { int: true, min: 1, max: 256 } },
  offset: { key: "offset", spec: { int: false, min: -1e6, max: 1e6 } },
  delay: { key: "delay", spec: { int: false, min: 0, max: 16 } },
  precision: { key: "precision", spec: { int: false, min: 0, max: 1 } },
  stratum: { key: "stratum", spec: { int: true, min: 0, max: 15 } },
  maxdispersion: { key: "maxDispersion", spec: { int: false, min: 0, max: 16 } },
  minsamples: { key: "minSamples", spec: { int: true, min: 0, max: 256 } },
  maxsamples: { key: "maxSamples", spec: { int: true, min: 0, max: 256 } },
  maxunreach: { key: "maxUnreach", spec: { int: true, min: 0, max: 2 ** 31 - 1 } },
};

const FLAGS = ["prefer", "noselect", "trust", "require"] as const;

/** Result of parsing one refclock line. */
export type RefclockParse =
  | { ok: true; refclock: RefclockConfig }
  | { ok: false; error: string };

/** A SHM parameter: chrony's `UNIT[:perm=MODE]` (octal mode, default 0600). */
export function parseShmParameter(
  parameter: string,
): { unit: number; perm: number } | string {
  const [unitText, ...options] = parameter.split(":");
  if (!/^[0-9]{1,3}$/.test(unitText) || Number(unitText) > 255) {
    return `refclock SHM: invalid unit '${unitText}' (expected 0..255)`;
  }
  let perm = 0o600;
  for (const o of options) {
    const m = /^perm=([0-7]{1,4})$/.exec(o);
    if (m === null) return `refclock SHM: unknown driver option '${o}' (perm=MODE is supported)`;
    perm = parseInt(m[1], 8) & 0o777;
  }
  return { unit: Number(unitText), perm };
}

/** Checks a driver parameter; an error message or null. */
function checkParameter(driver: RefclockDriver, parameter: string): string | null {
  if (driver === "SHM") {
    const p = parseShmParameter(parameter);
    if (typeof p === "string") return p;
  } else {
    if (!parameter.startsWith("/")) {
      return `refclock SOCK: socket path '${parameter}' must be absolute`;
    }
    if (parameter.includes(":")) {
      return `refclock SOCK: driver options ('${parameter}') not supported`;
    }
  }
  return null;
}

/** Parses the arguments of a `refclock` directive (origin is set by the caller). */
export function parseRefclockArgs(args: readonly string[]): RefclockParse {
  if (args.length < 2) return { ok: false, error: "refclock: expected DRIVER PARAMETER [OPTIONS]" };
  const name = args[0].toUpperCase();
  if (OTHER_DRIVERS.includes(name)) {
    return { ok: false, error: `refclock driver ${name} is not implemented yet (SHM, SOCK are)` };
  }
  const driver = DRIVERS.find((d) => d === name);
  if (driver === undefined) return { ok: false, error: `unknown refclock driver '${args[0]}'` };
  const parameter = args[1];
  const bad = checkParameter(driver, parameter);
  if (bad !== null) return { ok: false, error: bad };
  const r: RefclockConfig = { driver, parameter, ...DEFAULT_REFCLOCK, origin: "" };
  for (let i = 2; i < args.length; i++) {
    const opt = args[i].toLowerCase();
    if ((FLAGS as readonly string[]).includes(opt)) {
      r[opt as typeof FLAGS[number]] = true;
      continue;
    }
    if (NOT_IMPLEMENTED.includes(opt)) {
      return { ok: false, error: `refclock option '${opt}' is not implemented yet` };
    }
    if (opt === "refid") {
      const v = args[++i];
      if (v === undefined) return { ok: false, error: "refclock: refid needs a value" };
      if (!/^[\x21-\x7e]{1,4}$/.test(v)) {
        return { ok: false, error: `refclock: invalid refid '${v}' (1 to 4 printable characters)` };
      }
      r.refId = v;
      continue;
    }
    const n = NUMERIC[opt];
    if (n === undefined) return { ok: false, error: `refclock: unknown option '${args[i]}'` };
    const text = args[++i];
    if (text === undefined) return { ok: false, error: `refclock: ${opt} needs a value` };
    const v = parseNumber(text, `refclock ${opt}`, n.spec);
    if (!v.ok) return { ok: false, error: v.error };
    r[n.key] = v.value as never;
  }
  return { ok: true, refclock: r };
}

/** A refclock as a `refclock DRIVER PARAM [options]` line (non-default options only). */
export function renderRefclock(r: RefclockConfig): string {
  const parts: string[] = ["refclock", r.driver, r.parameter];
  if (r.refId !== null) parts.push("refid", r.refId);
  for (const [option, { key }] of Object.entries(NUMERIC)) {
    const v = r[key];
    if (v !== null && v !== DEFAULT_REFCLOCK[key]) parts.push(option, String(v));
  }
  for (const f of FLAGS) if (r[f]) parts.push(f);
  return parts.join(" ");
}

/** chrony's default refid: the driver name's first three letters and the refclock index. */
export function defaultRefId(driver: string, index: number): string {
  const ref = [...driver.slice(0, 3).padStart(3, " ")];
  ref[3] = String(index % 10);
  if (index >= 10) ref[2] = String(Math.floor(index / 10) % 10);
  return ref.join("");
}
