/**
 * TAI - UTC for refclocks with the `tai` option, from the same leap-second table as the
 * reference (`leapseclist`, else `leapsectz`), read once at start. Null without a table:
 * chrony then drops such samples ("unknown TAI offset").
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { Instant } from "../base/time.ts";
import {
  type LeapEntry,
  leapForDay,
  parseLeapSecondsList,
  parseTzifLeaps,
  passesLeapCheck,
} from "../daemon/leap_table.ts";

/** The TAI - UTC lookup of `config`'s leap-second table, or null when there is none. */
export function taiOffsetTable(
  config: Pick<Config, "leapSecTz" | "leapSecList">,
  read: (path: string) => Uint8Array = (p) => Deno.readFileSync(p),
): ((t: Instant) => number) | null {
  let entries: LeapEntry[] | null = null;
  try {
    if (config.leapSecList !== null) {
      entries = parseLeapSecondsList(new TextDecoder().decode(read(config.leapSecList))).entries;
    } else if (config.leapSecTz !== null && !config.leapSecTz.includes("..")) {
      const name = config.leapSecTz;
      const tz = parseTzifLeaps(read(name.startsWith("/") ? name : `/usr/share/zoneinfo/${name}`));
      entries = passesLeapCheck(tz) ? tz : null;
    }
  } catch {
    entries = null;
  }
  if (entries === null) return null;
  const table = entries;
  return (t) => leapForDay(table, Number(t / 1_000_000_000n)).tai;
}
