/**
 * RFC 8633 advises never to mix servers that smooth (smear) their time with servers that do
 * not: during a smear they disagree by up to the leap second. chronyd marks smoothed replies
 * with reference ID 127.127.1.255 (tempus too, core/smoothing.ts); this watch tells when the
 * reachable NTP sources of a client are such a mix, once per change of the mix. Pure.
 *
 * @module
 */
import { SMOOTH_REFID } from "./smoothing.ts";

/** What the watch needs of one source. */
export interface SmoothedSourceView {
  /** Address as reports show it. */
  address: string;
  /** Reference ID of its last reply (0 when none). */
  refId: number;
  /** True when it answered recently (reachability register non-zero). */
  reachable: boolean;
  /** True for a reference clock (never smoothed). */
  refclock: boolean;
}

/** Remembers the last mix warned about. */
export class SmoothedSourceWatch {
  #last = "";

  /**
   * Returns a warning when reachable NTP sources serve smoothed time beside others that do
   * not, and the smoothed set differs from the last one warned about; null otherwise.
   */
  check(sources: readonly SmoothedSourceView[]): string | null {
    const live = sources.filter((s) => s.reachable && !s.refclock && s.refId !== 0);
    const smoothed = live.filter((s) => (s.refId >>> 0) === SMOOTH_REFID).map((s) => s.address);
    const mixed = smoothed.length > 0 && smoothed.length < live.length;
    const key = mixed ? smoothed.join(",") : "";
    if (key === this.#last) return null;
    this.#last = key;
    if (!mixed) return null;
    return `Source${smoothed.length > 1 ? "s" : ""} ${smoothed.join(", ")} serve${
      smoothed.length > 1 ? "" : "s"
    } smoothed time (reference ID 127.127.1.255) beside unsmoothed sources: they may disagree ` +
      "by up to a leap second while smoothing (RFC 8633)";
  }
}
