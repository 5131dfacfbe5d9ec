/**
 * Log lines of source selection about one source, in chrony's wording.
 *
 * @module
 */
import {
  BAD_HANDLE_THRESHOLD,
  type SelectionMessage,
  type SourceSelectorOptions,
} from "./types.ts";

/**
 * The line logged when a source gets `status` (null: none). Distance and jitter are
 * reported only once the source was bad on BAD_HANDLE_THRESHOLD consecutive updates (`bad`).
 * The caller logs each status of a source once until the next reselection.
 */
export function statusMessage(
  status: string,
  name: string,
  bad: number,
  opts: Pick<SourceSelectorOptions, "maxDistance" | "maxJitter">,
): SelectionMessage | null {
  switch (status) {
    case "d":
      return bad >= BAD_HANDLE_THRESHOLD
        ? {
          level: "warning",
          text: `Root distance of ${name} exceeds maxdistance of ${
            opts.maxDistance.toFixed(3)
          } seconds`,
        }
        : null;
    case "~":
      return bad >= BAD_HANDLE_THRESHOLD
        ? {
          level: "warning",
          text: `Jitter of ${name} exceeds maxjitter of ${opts.maxJitter.toFixed(3)} seconds`,
        }
        : null;
    case "x":
      return { level: "warning", text: `Detected falseticker ${name}` };
    case "*":
      return { level: "info", text: `Selected source ${name}` };
    default:
      return null;
  }
}

/** True for the statuses that count as bad towards replacing a source (x, d, ~). */
export function isBadStatus(status: string): boolean {
  return status === "x" || status === "d" || status === "~";
}
