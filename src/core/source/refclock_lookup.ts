/**
 * Finding a reference clock by its refid among the engine's sources (`lock REFID`, the
 * PPS stratum rule).
 *
 * @module
 */
import { RefclockSource } from "./refclock.ts";
import { refIdFromAscii } from "../../ntp/packet.ts";
import type { Source } from "./source.ts";

/** The refclock among `sources` whose refid is `ref` (text or 32-bit value), if any. */
export function findRefclock(
  sources: Iterable<Source>,
  ref: string | number,
): RefclockSource | null {
  const want = typeof ref === "string" ? refIdFromAscii(ref) : ref;
  for (const s of sources) if (s instanceof RefclockSource && s.refId === want) return s;
  return null;
}
