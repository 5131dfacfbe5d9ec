/**
 * C printf-style number formatting with glibc's exact rounding (the decimal expansion of
 * the double, ties to even), so tempus prints the digits chronyc prints.
 *
 * @module
 */

/** Formats |x| with `precision` decimals exactly as C's "%.*f" does (no sign). */
function fixedAbs(x: number, precision: number): string {
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, Math.abs(x));
  const hi = bits.getUint32(0);
  const lo = bits.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (expBits === 0) {
    exp = -1074;
  } else {
    mantissa |= 1n << 52n;
    exp = expBits - 1075;
  }
  const scale = 10n ** BigInt(precision);
  let q: bigint;
  if (exp >= 0) {
    q = (mantissa << BigInt(exp)) * scale;
  } else {
    const num = mantissa * scale;
    const den = 1n << BigInt(-exp);
    q = num / den;
    const r2 = (num % den) * 2n;
    if (r2 > den || (r2 === den && (q & 1n) === 1n)) q += 1n;
  }
  const digits = q.toString().padStart(precision + 1, "0");
  if (precision === 0) return digits;
  return `${digits.slice(0, -precision)}.${digits.slice(-precision)}`;
}

/** Options of `cFormatFloat`. */
export interface FloatFormat {
  /** Minimum field width. */
  width?: number;
  /** Decimals (default 6). */
  precision?: number;
  /** Always print a sign ("%+f"). */
  plus?: boolean;
  /** Left-justify ("%-f"). */
  left?: boolean;
}

/** C's "%[+][-][width].[precision]f". NaN/Infinity print as "nan"/"inf" like glibc. */
export function cFormatFloat(x: number, format: FloatFormat = {}): string {
  const precision = format.precision ?? 6;
  const negative = x < 0 || Object.is(x, -0);
  let body: string;
  if (Number.isNaN(x)) body = "nan";
  else if (!Number.isFinite(x)) body = "inf";
  else body = fixedAbs(x, precision);
  const sign = negative && !Number.isNaN(x) ? "-" : format.plus ? "+" : "";
  const text = sign + body;
  return pad(text, format.width ?? 0, format.left ?? false);
}

/** Pads to `width` with spaces (right-aligned unless `left`). */
export function pad(text: string, width: number, left = false): string {
  return left ? text.padEnd(width) : text.padStart(width);
}

/** C's "%[width]d" / "%u" for an integer. */
export function cFormatInt(x: number | bigint, width = 0, left = false): string {
  return pad(String(typeof x === "bigint" ? x : Math.trunc(x)), width, left);
}
