/**
 * Which time NTS-KE checks certificate validity against, before the clock can be trusted.
 *
 * - `skip`: `nocerttimecheck N` still applies (chrony's rule: no date check at all).
 * - `floor`: the system clock is before the release date of this build, so it is certainly
 *   wrong; certificates are checked at the release date for expiry only (one that expired
 *   before it is refused; one not yet valid then may be valid now). No blind trust needed.
 * - `clock`: the system clock is at least plausible; the usual check against it.
 *
 * @module
 */

/** How certificate dates are checked for one NTS-KE. */
export type CertTimeCheck =
  | { kind: "clock" }
  | { kind: "skip" }
  | { kind: "floor"; floor: number };

/**
 * The check for an NTS-KE at system time `now` (Unix seconds), with lower bound `floor` on the
 * true time, and `skip` while `nocerttimecheck` applies.
 */
export function certTimeCheck(now: number, floor: number, skip: boolean): CertTimeCheck {
  if (skip) return { kind: "skip" };
  if (!(now >= floor)) return { kind: "floor", floor };
  return { kind: "clock" };
}

/** The NTS-KE options (ke_client.ts) that carry out `check`. */
export function certTimeOptions(
  check: CertTimeCheck,
): { noTimeCheck?: boolean; timeFloor?: number } {
  switch (check.kind) {
    case "skip":
      return { noTimeCheck: true };
    case "floor":
      return { timeFloor: check.floor };
    case "clock":
      return {};
  }
}

/**
 * How many clock updates certificate times stay not fully verified at start: `nocerttimecheck
 * N` skips them for N updates; a clock before the floor checks expiry only until the first.
 */
export function unverifiedUpdates(noCertTimeCheck: number, clockBeforeFloor: boolean): number {
  return Math.max(noCertTimeCheck, clockBeforeFloor ? 1 : 0);
}

/**
 * minsources while certificate times are not fully verified: a majority of the `ntsSources`
 * configured NTS sources (at least 2) must agree, so one server whose certificate expired (and
 * whose key an attacker may hold) cannot set the clock alone; `configured` (minsources)
 * otherwise, and when fewer than 2 NTS sources exist (nothing to agree with).
 */
export function bootstrapMinSources(
  configured: number,
  ntsSources: number,
  unverified: boolean,
): number {
  if (!unverified || ntsSources < 2) return configured;
  return Math.max(configured, Math.floor(ntsSources / 2) + 1);
}
