/**
 * Mode 6 response data: variable lists laid out as ntpd lays them out (`name=value` items
 * separated by ", ", a "\r\n" instead of the space where a line would pass 72 characters, a
 * final "\r\n"), capped at a total size, and cut into fragments of at most 468 octets. Pure.
 *
 * @module
 */
import { CONTROL_MAX_DATA } from "../../ntp/control.ts";

/** ntpd's MAXDATALINELEN: where a variable list breaks its lines. */
const MAX_LINE = 72;

/** A variable list, with how many items did not fit under the cap. */
export interface VariableText {
  /** The data octets (ASCII). */
  bytes: Uint8Array;
  /** Items left out because the cap was reached. */
  omitted: number;
}

/**
 * Lays out `items` (`name=value` strings) into at most `cap` octets; items that would pass
 * the cap are left out (and counted), never cut, so what is sent always parses.
 */
export function layoutVariables(items: readonly string[], cap: number): VariableText {
  let text = "";
  let line = 0;
  let omitted = 0;
  for (const item of items) {
    let sep = "";
    let lineAfter = line;
    if (text.length > 0) {
      // ntpd: a comma, then "\r\n" if the item would reach the line limit, else a space.
      if (item.length + line + 2 >= MAX_LINE) {
        sep = ",\r\n";
        lineAfter = 0;
      } else {
        sep = ", ";
        lineAfter = line + 2;
      }
    }
    // Keep room for the final "\r\n".
    if (text.length + sep.length + item.length + 2 > cap) {
      omitted++;
      continue;
    }
    text += sep + item;
    line = lineAfter + item.length;
  }
  if (text.length > 0) text += "\r\n";
  return { bytes: new TextEncoder().encode(text), omitted };
}

/** Cuts `data` into fragments of at most CONTROL_MAX_DATA octets (one empty one for none). */
export function fragmentData(data: Uint8Array): Uint8Array[] {
  if (data.length === 0) return [data];
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += CONTROL_MAX_DATA) {
    out.push(data.subarray(at, Math.min(data.length, at + CONTROL_MAX_DATA)));
  }
  return out;
}

/** Why a list of requested names could not be used. */
export type NameListResult = { ok: true; names: string[] } | { ok: false };

/**
 * Parses the names of a READVAR/READSTAT request (`a,b=x,c`): values after '=' are dropped
 * (nothing is written), surrounding blanks trimmed, duplicates kept once. Fails on an empty
 * name or a byte outside printable ASCII; an empty or blank list gives no names.
 */
export function parseNameList(data: Uint8Array): NameListResult {
  let text = "";
  for (const b of data) {
    if (b === 0) break; // ntpq pads with NULs; nothing follows them
    if (b < 0x20 || b > 0x7e) {
      if (b === 0x0d || b === 0x0a || b === 0x09) {
        text += " ";
        continue;
      }
      return { ok: false };
    }
    text += String.fromCharCode(b);
  }
  if (text.trim() === "") return { ok: true, names: [] };
  const names: string[] = [];
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    const name = (eq >= 0 ? part.slice(0, eq) : part).trim();
    if (name === "") return { ok: false };
    if (!names.includes(name)) names.push(name);
  }
  return { ok: true, names };
}
