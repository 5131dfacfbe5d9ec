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
import { refIdToHex } from "../ntp/packet.ts";
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

/** A specifier's width, precision and sign flag (`+` or `-`). */
interface SpecOptions {
  width: number;
  prec: number;
  sign: boolean;
}

/** What a specifier prints of its argument (`x`: the argument as a number). */
type Specifier = (x: number, arg: ReportArg | undefined, o: SpecOptions) => string;

/** %F and %O: the magnitude with its unit and whether the clock is fast or slow. */
function sense(x: number, o: SpecOptions, unit: string, fastWhenPositive: boolean): string {
  const magnitude = cFormatFloat(Math.abs(x), { width: o.width, precision: o.prec });
  return `${magnitude} ${unit} ${(x > 0) === fastWhenPositive ? "fast" : "slow"}`;
}

/** chronyc's specifiers (the -c form maps some onto others first). */
const SPECIFIERS: Readonly<Record<string, Specifier>> = {
  B: (x) => x ? "Yes" : "No",
  C: (x) => x >= 127 ? " -" : cFormatInt(x, 2),
  F: (x, _, o) => sense(x, o, "ppm", true),
  O: (x, _, o) => sense(x, o, "seconds", false),
  I: (x) => formatInterval(x),
  L: (x, _, o) => (o.width !== 1 ? LEAP_LONG : LEAP_SHORT)[x] ?? (o.width !== 1 ? "Invalid" : "?"),
  M: (x) => ["", "Symmetric active", "Symmetric passive", "", "Server"][x] || "Invalid",
  N: (x) => x === 0x44 ? "Daemon" : x === 0x4b ? "Kernel" : x === 0x48 ? "Hardware" : "Invalid",
  P: (x, _, o) => formatPpm(x, o.sign),
  R: (x) => refIdToHex(x),
  S: (x, _, o) => formatOffset(x, o.sign),
  T: (_, arg) => formatDate(asBigint(arg)),
  U: (x, _, o) => cFormatInt(x >>> 0, o.width),
  u: (x, _, o) => cFormatInt(x >>> 0, o.width),
  V: (_, arg) => formatEpoch(asBigint(arg)),
  Q: (_, arg, o) => cFormatInt(asBigint(arg), o.width),
  b: (x, _, o) =>
    Array.from({ length: Math.max(0, o.prec) }, (_, i) => (x >>> (o.prec - 1 - i)) & 1).join(""),
  c: (x, arg) => typeof arg === "string" ? arg.slice(0, 1) : String.fromCharCode(x),
  d: (x, _, o) => cFormatInt(x, o.width),
  f: (x, _, o) => cFormatFloat(x, { width: o.width, precision: o.prec, plus: o.sign }),
  o: (x, _, o) => pad((x >>> 0).toString(8), o.width),
  s: (_, arg, o) => pad(String(arg ?? ""), o.width, o.sign),
};

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
    // flag (+ or -), width, .precision (5 when absent, 0 when empty)
    const flags = /^([+-]?)([0-9]*)(?:\.([0-9]*))?/.exec(rest)!;
    let sign = flags[1] !== "";
    let width = Number(flags[2]);
    let prec = flags[3] === undefined ? 5 : Number(flags[3]);
    rest = rest.slice(flags[0].length);
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
    if (spec !== undefined && Object.hasOwn(SPECIFIERS, spec)) {
      out += SPECIFIERS[spec](asNumber(arg), arg, { width, prec, sign });
    }
  }
  if (csv) out += "\n";
  return out;
}
