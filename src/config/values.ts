/**
 * Numeric argument parsing with chrony's ranges. A value is either an integer or a float
 * written as chrony's scanf would accept it ("1", "-0.5", "1e-4", ".25"); anything else is
 * an error message naming the option.
 *
 * @module
 */
import type { Parsed } from "./subnet.ts";

/** The accepted range and kind of one numeric option. */
export interface NumberSpec {
  /** true: whole numbers only. */
  int: boolean;
  /** Smallest accepted value (inclusive), if bounded. */
  min?: number;
  /** Largest accepted value (inclusive), if bounded. */
  max?: number;
  /** When true, `min` itself is not accepted (value must be greater). */
  minExclusive?: boolean;
}

const INT_RE = /^[+-]?[0-9]+$/;
const FLOAT_RE = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

/** Parses `text` as the number described by `spec`; `what` names it in the error. */
export function parseNumber(text: string, what: string, spec: NumberSpec): Parsed<number> {
  if (!(spec.int ? INT_RE : FLOAT_RE).test(text)) {
    return {
      ok: false,
      error: `invalid ${what} '${text}' (expected ${spec.int ? "an integer" : "a number"})`,
    };
  }
  const value = Number(text);
  return checkRange(value, what, spec);
}

/** Checks a value already held as a number against `spec`. */
export function checkRange(value: number, what: string, spec: NumberSpec): Parsed<number> {
  if (!Number.isFinite(value) || (spec.int && !Number.isSafeInteger(value))) {
    return { ok: false, error: `invalid ${what} ${value}` };
  }
  const tooSmall = spec.min !== undefined &&
    (spec.minExclusive ? value <= spec.min : value < spec.min);
  const tooLarge = spec.max !== undefined && value > spec.max;
  if (tooSmall || tooLarge) {
    return { ok: false, error: `${what} ${value} out of range (${describeRange(spec)})` };
  }
  return { ok: true, value };
}

/** Describes a range for messages: "-7..24", "> 0", ">= 1". */
export function describeRange(spec: NumberSpec): string {
  if (spec.min !== undefined && spec.max !== undefined) {
    return spec.minExclusive ? `> ${spec.min} and <= ${spec.max}` : `${spec.min}..${spec.max}`;
  }
  if (spec.min !== undefined) return `${spec.minExclusive ? ">" : ">="} ${spec.min}`;
  if (spec.max !== undefined) return `<= ${spec.max}`;
  return "any";
}
