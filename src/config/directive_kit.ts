/**
 * The small toolkit every directive handler is built from: where problems go, argument
 * counting, number parsing, and handlers for the common shapes (one number, one string, a
 * flag, an absolute path) stored in a `Config` field.
 *
 * @module
 */
import type { Config } from "./model.ts";
import { parseIpAddress } from "./subnet.ts";
import { type NumberSpec, parseNumber } from "./values.ts";

/** Where a directive reports problems (messages without location; the caller adds it). */
export interface DirectiveSink {
  /** Records an error: the directive is rejected. */
  error(message: string): void;
  /** Records a warning: the directive is accepted (or harmlessly ignored). */
  warn(message: string): void;
}

/** Applies one directive's arguments to `config`, reporting problems to `sink`. */
export type DirectiveHandler = (config: Config, args: string[], sink: DirectiveSink) => void;

/** A table of handlers by lower-case directive name. */
export type DirectiveTable = Readonly<Record<string, DirectiveHandler>>;

/** Parses `text` as the number `what` of `directive`; null (after an error) when it is not. */
export function num(
  sink: DirectiveSink,
  directive: string,
  text: string | undefined,
  spec: NumberSpec,
  what = "value",
): number | null {
  if (text === undefined) {
    sink.error(`${directive}: missing ${what}`);
    return null;
  }
  const r = parseNumber(text, `${directive} ${what}`, spec);
  if (!r.ok) {
    sink.error(r.error);
    return null;
  }
  return r.value;
}

/** True when `args` has between `min` and `max` entries; otherwise reports an error. */
export function arity(
  sink: DirectiveSink,
  directive: string,
  args: string[],
  min: number,
  max: number,
): boolean {
  if (args.length < min) {
    sink.error(`${directive}: missing argument${min - args.length > 1 ? "s" : ""}`);
    return false;
  }
  if (args.length > max) {
    sink.error(
      max === 0
        ? `${directive}: takes no arguments (got '${args.join(" ")}')`
        : `${directive}: too many arguments ('${args.slice(max).join(" ")}')`,
    );
    return false;
  }
  return true;
}

function setField(config: Config, field: keyof Config, value: unknown): void {
  (config as unknown as Record<string, unknown>)[field] = value;
}

/** Directive names are the Config field names in lower case (maxSlewRate: maxslewrate). */
function fieldDirective(field: keyof Config): string {
  return String(field).toLowerCase();
}

/** A directive taking one number stored in a Config field. */
export function numberField(field: keyof Config, spec: NumberSpec): DirectiveHandler {
  return (config, args, sink) => {
    const name = fieldDirective(field);
    if (!arity(sink, name, args, 1, 1)) return;
    const v = num(sink, name, args[0], spec);
    if (v !== null) setField(config, field, v);
  };
}

/** A directive taking one path or name stored in a Config field. */
export function stringField(field: keyof Config): DirectiveHandler {
  return (config, args, sink) => {
    if (!arity(sink, fieldDirective(field), args, 1, 1)) return;
    setField(config, field, args[0]);
  };
}

/** A directive taking one absolute path stored in a Config field. */
export function absolutePathField(field: keyof Config): DirectiveHandler {
  return (config, args, sink) => {
    const name = fieldDirective(field);
    if (!arity(sink, name, args, 1, 1)) return;
    if (!args[0].startsWith("/")) {
      sink.error(`${name}: '${args[0]}' is not an absolute path`);
      return;
    }
    setField(config, field, args[0]);
  };
}

/** A directive without arguments that sets a boolean Config field. */
export function flagField(field: keyof Config): DirectiveHandler {
  return (config, args, sink) => {
    if (!arity(sink, fieldDirective(field), args, 0, 0)) return;
    setField(config, field, true);
  };
}

/** Replaces the address of the same family in a bind list (chrony: one per family). */
export function setBindAddress(list: string[], address: string): string[] {
  const family = parseIpAddress(address)?.family;
  return [...list.filter((a) => parseIpAddress(a)?.family !== family), address];
}
