/**
 * chronyc's `print_report`: a printf-like format with chrony's own specifiers, printed as
 * text for people or, with `-c`, as one CSV line (text between specifiers dropped, fields
 * comma-separated, human units turned into plain numbers). Specifiers:
 * B yes/no, C client-log interval, F/O frequency/offset with fast/slow, I interval with
 * unit, L leap status, M NTP mode, N timestamping source, P ppm, R refid hex, S offset with
 * unit, T date (UTC), U/u/d/o/c/s/f as C, V seconds.nanoseconds, Q 64-bit, b binary.
 *
 * @module
 */
import { cFormatFloat, cFormatInt, pad } from "./format_printf.ts";

/** A value for one specifier (T and V take bigint nanoseconds since the epoch). */
export type ReportArg = number | bigint | string | boolean;

/** chronyc's print_seconds (%I). */
export function formatInterval(s: number): string {
  const v = s >>> 0;
  if (v === 0xffffffff) return "   -";
  if (v < 1200) return pad(String(v), 4);
  if (v < 36000) return `${pad(String(Math.floor(v / 60)), 3)}m`;
  if (v < 345600) return `${pad(String(Math.floor(v / 3600)), 3)}h`;
  const d = Math.floor(v / 86400);
  if (d > 999) return `${pad(String(Math.floor(d / 365)), 3)}y`;
  return `${pad(String(d), 3)}d`;
}

const UNITS: Array<[number, (s: number) => number, string, number]> = [
  // limit, scaling (as chronyc computes it), unit, decimals
  [9999.5e-9, (s) => s * 1e9, "ns", 0],
  [9999.5e-6, (s) => s * 1e6, "us", 0],
  [9999.5e-3, (s) => s * 1e3, "ms", 0],
  [999.5, (s) => s, "s", 1],
  [99999.5, (s) => s, "s", 0],
  [99999.5 * 60, (s) => s / 60, "m", 0],
  [99999.5 * 3600, (s) => s / 3600, "h", 0],
  [99999.5 * 3600 * 24, (s) => s / (3600 * 24), "d", 0],
];

/** chronyc's print_nanoseconds / print_signed_nanoseconds (%S / %+S). */
export function formatOffset(s: number, signed: boolean): string {
  const x = Math.abs(s);
  const value = signed ? s : x;
  for (const [limit, scale, unit, decimals] of UNITS) {
    if (x < limit) {
      const width = (decimals === 0 && unit.length === 2 ? 4 : 5) + (signed ? 1 : 0);
      return cFormatFloat(scale(value), { width, precision: decimals, plus: signed }) + unit;
    }
  }
  const years = value / (3600 * 24 * 365);
  return cFormatFloat(years, { width: signed ? 6 : 5, precision: 0, plus: signed }) + "y";
}

/** chronyc's print_freq_ppm / print_signed_freq_ppm (%P / %+P). */
export function formatPpm(f: number, signed: boolean): string {
  const precision = Math.abs(f) < 99999.5 ? 3 : 0;
  return cFormatFloat(f, { width: 10, precision, plus: signed });
}

const LEAP_LONG = ["Normal", "Insert second", "Delete second", "Not synchronised"];
const LEAP_SHORT = ["N", "+", "-", "?"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function two(n: number): string {
  return String(n).padStart(2, "0");
}

function splitNs(t: bigint): { sec: bigint; nsec: number } {
  let sec = t / 1_000_000_000n;
  let nsec = t % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec, nsec: Number(nsec) };
}

/** strftime("%a %b %d %T %Y") of an instant in UTC (%T). */
export function formatDate(t: bigint): string {
  const d = new Date(Number(splitNs(t).sec) * 1000);
  if (Number.isNaN(d.getTime())) return "";
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ` +
    `${d.getUTCFullYear()}`;
}

/** chrony's UTI_TimeToLogForm: "%Y-%m-%d %H:%M:%S" in UTC. */
export function formatLogDate(t: bigint): string {
  const d = new Date(Number(splitNs(t).sec) * 1000);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** chrony's UTI_TimespecToString: "seconds.nanoseconds" (%V). */
export function formatEpoch(t: bigint): string {
  const { sec, nsec } = splitNs(t);
  return `${sec}.${String(nsec).padStart(9, "0")}`;
}

function asNumber(v: ReportArg | undefined): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  return Number(v ?? 0);
}

function asBigint(v: ReportArg | undefined): bigint {
  if (typeof v === "bigint") return v;
  return BigInt(Math.trunc(asNumber(v)));
}

/** Formats like chronyc's print_report; `csv` gives the -c form (with a trailing newline). */
export function printReport(format: string, args: ReportArg[], csv: boolean): string {
  let out = "";
  let rest = format;
  let argIndex = 0;
  for (let field = 0;; field++) {
    const at = rest.indexOf("%");
    const text = at < 0 ? rest : rest.slice(0, at);
    if (!csv) out += text;
    if (at < 0 || at + 1 >= rest.length) break;
    rest = rest.slice(at + 1);
    let sign = false;
    let width = 0;
    let prec = 5;
    if (rest[0] === "+" || rest[0] === "-") {
      sign = true;
      rest = rest.slice(1);
    }
    const w = /^[0-9]+/.exec(rest);
    if (w) {
      width = Number(w[0]);
      rest = rest.slice(w[0].length);
    }
    if (rest[0] === ".") {
      const p = /^[0-9]*/.exec(rest.slice(1));
      prec = Number(p?.[0] || 0);
      rest = rest.slice(1 + (p?.[0].length ?? 0));
    }
    let spec = rest[0];
    rest = rest.slice(1);
    const arg = args[argIndex++];
    if (csv) {
      sign = false;
      width = 0;
      if (field > 0) out += ",";
      if (spec === "C") spec = "d";
      else if (spec === "F" || spec === "P") {
        prec = 3;
        spec = "f";
      } else if (spec === "O" || spec === "S") {
        prec = 9;
        spec = "f";
      } else if (spec === "I") spec = "U";
      else if (spec === "T") spec = "V";
    }
    const x = asNumber(arg);
    switch (spec) {
      case "B":
        out += x ? "Yes" : "No";
        break;
      case "C":
        out += x >= 127 ? " -" : cFormatInt(x, 2);
        break;
      case "F":
      case "O": {
        const slow = (x > 0) !== (spec !== "O");
        out += `${cFormatFloat(Math.abs(x), { width, precision: prec })} ${
          spec === "O" ? "seconds" : "ppm"
        } ${slow ? "slow" : "fast"}`;
        break;
      }
      case "I":
        out += formatInterval(x);
        break;
      case "L":
        out += (width !== 1 ? LEAP_LONG : LEAP_SHORT)[x] ?? (width !== 1 ? "Invalid" : "?");
        break;
      case "M":
        out += x === 1
          ? "Symmetric active"
          : x === 2
          ? "Symmetric passive"
          : x === 4
          ? "Server"
          : "Invalid";
        break;
      case "N":
        out += x === 0x44 ? "Daemon" : x === 0x4b ? "Kernel" : x === 0x48 ? "Hardware" : "Invalid";
        break;
      case "P":
        out += formatPpm(x, sign);
        break;
      case "R":
        out += (x >>> 0).toString(16).toUpperCase().padStart(8, "0");
        break;
      case "S":
        out += formatOffset(x, sign);
        break;
      case "T":
        out += formatDate(asBigint(arg));
        break;
      case "U":
      case "u":
        out += cFormatInt(x >>> 0, width);
        break;
      case "V":
        out += formatEpoch(asBigint(arg));
        break;
      case "Q":
        out += cFormatInt(asBigint(arg), width);
        break;
      case "b":
        for (let i = prec - 1; i >= 0; i--) out += (x >>> i) & 1 ? "1" : "0";
        break;
      case "c":
        out += typeof arg === "string" ? arg.slice(0, 1) : String.fromCharCode(x);
        break;
      case "d":
        out += cFormatInt(x, width);
        break;
      case "f":
        out += cFormatFloat(x, { width, precision: prec, plus: sign });
        break;
      case "o":
        out += pad((x >>> 0).toString(8), width);
        break;
      case "s":
        out += pad(String(arg ?? ""), width, sign);
        break;
    }
  }
  if (csv) out += "\n";
  return out;
}
