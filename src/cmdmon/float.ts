/**
 * chrony's 32-bit `Float` (candm.h): a 7-bit signed exponent over a 25-bit signed
 * two's-complement coefficient with no hidden bit, value = coef * 2^(exp - 25). Encoding
 * follows UTI_FloatHostToNetwork bit for bit (the exponent is truncated toward zero, so the
 * same double gives the same word chronyc sends).
 *
 * @module
 */

const EXP_BITS = 7;
const COEF_BITS = 32 - EXP_BITS;
const EXP_MIN = -(1 << (EXP_BITS - 1));
const EXP_MAX = -EXP_MIN - 1;
const COEF_MIN = -(1 << (COEF_BITS - 1));
const COEF_MAX = -COEF_MIN - 1;

/** Encodes a number as chrony's Float; returns the 32-bit word (unsigned). */
export function encodeFloat(value: number): number {
  let x = value;
  let neg = 0;
  if (x < 0) {
    x = -x;
    neg = 1;
  } else if (!(x >= 0)) {
    x = 0; // NaN
  }
  let exp: number;
  let coef: number;
  if (x < 1e-100) {
    exp = 0;
    coef = 0;
  } else if (x > 1e100) {
    exp = EXP_MAX;
    coef = COEF_MAX + neg;
  } else {
    exp = Math.trunc(Math.log(x) / Math.log(2) + 1);
    coef = Math.floor(x * Math.pow(2, -exp + COEF_BITS) + 0.5);
    while (coef > COEF_MAX + neg) {
      coef = Math.floor(coef / 2);
      exp++;
    }
    if (exp > EXP_MAX) {
      exp = EXP_MAX;
      coef = COEF_MAX + neg;
    } else if (exp < EXP_MIN) {
      if (exp + COEF_BITS >= EXP_MIN) {
        coef = Math.floor(coef / Math.pow(2, EXP_MIN - exp));
        exp = EXP_MIN;
      } else {
        exp = 0;
        coef = 0;
      }
    }
  }
  if (neg) coef = (-coef) & ((1 << COEF_BITS) - 1);
  return (((exp & ((1 << EXP_BITS) - 1)) << COEF_BITS) | coef) >>> 0;
}

/** Decodes chrony's Float from its 32-bit word. */
export function decodeFloat(word: number): number {
  const x = word >>> 0;
  let exp = x >>> COEF_BITS;
  if (exp >= 1 << (EXP_BITS - 1)) exp -= 1 << EXP_BITS;
  exp -= COEF_BITS;
  let coef = x % (2 ** COEF_BITS);
  if (coef >= 1 << (COEF_BITS - 1)) coef -= 2 ** COEF_BITS;
  return coef * Math.pow(2, exp);
}
