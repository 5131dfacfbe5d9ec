/**
 * `refclock DRIVER PARAMETER [OPTIONS]` (chrony's parse_refclock) for the drivers tempus
 * implements: chrony's SHM, SOCK, PPS, PHC and RTC, and NMEA (a GPS receiver on a serial
 * port, tempus's own: chrony has none). `local` makes the refclock a local frequency
 * standard (its samples are pulses locked to itself; it is never selected). The PHC driver
 * options extpps, pin, channel and clear are not implemented: they are errors, never
 * accepted and ignored. SHM takes chrony's `UNIT:perm=MODE`, PPS `DEVICE[:clear]`, PHC
 * `DEVICE|INTERFACE[:nocrossts]`, RTC `DEVICE[:utc]`, NMEA `DEVICE[:baud=RATE]`; SOCK driver
 * options do not exist in chrony 4.3 and are errors.
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
    lock: null,
    rate: 1,
    pps: false,
    width: 0,
    maxLockAge: 2,
    tai: false,
    local: false,
  });

const DRIVERS: readonly RefclockDriver[] = ["SHM", "SOCK", "PPS", "PHC", "RTC", "NMEA"];

/** Serial speeds the NMEA driver sets (termios B* constants exist for these). */
export const NMEA_BAUD_RATES: readonly number[] = [
  1200,
  2400,
  4800,
  9600,
  19200,
  38400,
  57600,
  115200,
  230400,
];

/** The RefclockConfig fields that hold a number. */
type NumericKey = {
  [K in keyof RefclockConfig]: number extends RefclockConfig[K] ? K : never;
}[keyof RefclockConfig];

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
  rate: { key: "rate", spec: { int: true, min: 1, max: 1_000_000 } },
  width: { key: "width", spec: { int: false, min: 0, max: 1 } },
  maxlockage: { key: "maxLockAge", spec: { int: true, min: 0, max: 2 ** 31 - 1 } },
};

const FLAGS = ["prefer", "noselect", "trust", "require", "pps", "tai", "local"] as const;

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

/** `DEVICE[:FLAG]` of `driver`: an absolute device path and whether the flag was given. */
function deviceAndFlag(
  driver: string,
  parameter: string,
  flag: string,
): { device: string; flag: boolean } | string {
  const [device, ...options] = parameter.split(":");
  if (!device.startsWith("/")) {
    return `refclock ${driver}: device path '${device}' must be absolute`;
  }
  for (const o of options) {
    if (o !== flag) {
      return `refclock ${driver}: unknown driver option '${o}' (${flag} is supported)`;
    }
  }
  return { device, flag: options.length > 0 };
}

/** A PPS parameter: chrony's `DEVICE[:clear]` (clear: the falling edge is the pulse). */
export function parsePpsParameter(parameter: string): { device: string; clear: boolean } | string {
  const p = deviceAndFlag("PPS", parameter, "clear");
  return typeof p === "string" ? p : { device: p.device, clear: p.flag };
}

/** A PHC parameter: chrony's `DEVICE|INTERFACE[:nocrossts]` (an interface: its PHC). */
export function parsePhcParameter(
  parameter: string,
): { device: string; nocrossts: boolean } | string {
  const [device, ...options] = parameter.split(":");
  if (device === "") return "refclock PHC: missing device or interface";
  let nocrossts = false;
  for (const o of options) {
    const name = o.split("=")[0];
    if (name === "nocrossts") nocrossts = true;
    else if (["extpps", "pin", "channel", "clear"].includes(name)) {
      return `refclock PHC: driver option '${name}' is not implemented yet (nocrossts is)`;
    } else return `refclock PHC: unknown driver option '${o}'`;
  }
  return { device, nocrossts };
}

/** An RTC parameter: chrony's `DEVICE[:utc]` (without utc the RTC keeps local time). */
export function parseRtcParameter(parameter: string): { device: string; utc: boolean } | string {
  const p = deviceAndFlag("RTC", parameter, "utc");
  return typeof p === "string" ? p : { device: p.device, utc: p.flag };
}

/** An NMEA parameter: `DEVICE[:baud=RATE]` (default 9600, 8N1, raw). */
export function parseNmeaParameter(parameter: string): { device: string; baud: number } | string {
  const [device, ...options] = parameter.split(":");
  if (!device.startsWith("/")) return `refclock NMEA: device path '${device}' must be absolute`;
  let baud = 9600;
  for (const o of options) {
    const m = /^baud=([0-9]{1,7})$/.exec(o);
    if (m === null) return `refclock NMEA: unknown driver option '${o}' (baud=RATE is supported)`;
    baud = Number(m[1]);
    if (!NMEA_BAUD_RATES.includes(baud)) {
      return `refclock NMEA: unsupported baud rate ${baud} (${NMEA_BAUD_RATES.join(", ")})`;
    }
  }
  return { device, baud };
}

/** The parameter parsers of the drivers (an object, or an error message). */
const PARAMETER_PARSERS: Readonly<Record<RefclockDriver, (parameter: string) => object | string>> =
  {
    SHM: parseShmParameter,
    PPS: parsePpsParameter,
    NMEA: parseNmeaParameter,
    PHC: parsePhcParameter,
    RTC: parseRtcParameter,
    SOCK: (parameter) => {
      if (!parameter.startsWith("/")) {
        return `refclock SOCK: socket path '${parameter}' must be absolute`;
      }
      if (parameter.includes(":")) {
        return `refclock SOCK: driver options ('${parameter}') not supported`;
      }
      return {};
    },
  };

/** Checks a driver parameter; an error message or null. */
function checkParameter(driver: RefclockDriver, parameter: string): string | null {
  const p = PARAMETER_PARSERS[driver](parameter);
  return typeof p === "string" ? p : null;
}

/** Parses the arguments of a `refclock` directive (origin is set by the caller). */
export function parseRefclockArgs(args: readonly string[]): RefclockParse {
  if (args.length < 2) return { ok: false, error: "refclock: expected DRIVER PARAMETER [OPTIONS]" };
  const name = args[0].toUpperCase();
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
    if (opt === "refid" || opt === "lock") {
      const v = args[++i];
      if (v === undefined) return { ok: false, error: `refclock: ${opt} needs a value` };
      if (!/^[\x21-\x7e]{1,4}$/.test(v)) {
        return {
          ok: false,
          error: `refclock: invalid ${opt} refid '${v}' (1 to 4 printable characters)`,
        };
      }
      if (opt === "refid") r.refId = v;
      else r.lock = v;
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
  if (r.local && r.lock !== null) {
    // chrony silently replaces the lock with the refclock itself; tempus says so instead.
    return { ok: false, error: "refclock: local locks the refclock to itself; drop 'lock'" };
  }
  if (r.local && r.tai) {
    // A local refclock's samples are pulses: only their sub-second counts, TAI or not.
    return { ok: false, error: "refclock: tai has no effect with local (its samples are pulses)" };
  }
  return { ok: true, refclock: r };
}

/**
 * Checks across the refclock lines (after parsing all of them): a `lock` names another
 * refclock's refid, and a PPS driver without a lock, as in chrony, takes its seconds from
 * the synchronised clock; at most one refclock is `local`. Returns one message per problem,
 * empty when all is well.
 */
export function checkRefclockLocks(refclocks: readonly RefclockConfig[]): string[] {
  const ids = refclocks.map((rc, i) => rc.refId ?? defaultRefId(rc.driver, i));
  const problems: string[] = [];
  refclocks.forEach((rc, i) => {
    if (rc.lock === null) return;
    const j = ids.indexOf(rc.lock);
    if (j === -1) {
      problems.push(
        `refclock ${rc.driver} ${rc.parameter}: no refclock with refid ${rc.lock} to lock to`,
      );
    } else if (j === i) {
      problems.push(`refclock ${rc.driver} ${rc.parameter}: cannot lock to itself`);
    }
  });
  if (refclocks.filter((rc) => rc.local).length > 1) {
    // chrony: "There should be at most one refclock specified with this option".
    problems.push("more than one refclock with 'local': each would steer the clock's frequency");
  }
  return problems;
}

/** A refclock as a `refclock DRIVER PARAM [options]` line (non-default options only). */
export function renderRefclock(r: RefclockConfig): string {
  const parts: string[] = ["refclock", r.driver, r.parameter];
  if (r.refId !== null) parts.push("refid", r.refId);
  if (r.lock !== null) parts.push("lock", r.lock);
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
