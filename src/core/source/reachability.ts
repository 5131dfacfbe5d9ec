/**
 * The reachability register of a source (RFC 5905 reach, chrony's 8-bit register) and the
 * counts selection reads next to it.
 *
 * @module
 */

/** An 8-bit reachability register with its run and poll counters. */
export class Reachability {
  /** The register: bit 0 is the newest poll (1 = answered). */
  register = 0;
  /** Polls shifted in so far (0..8). */
  size = 0;
  /** Consecutive polls without reply while the register is all zero. */
  unreachableRun = 0;
  /**
   * Polls shifted in since a reply last passed every test and went to the filter or the
   * statistics (counted from the start, so a source that never produced a sample has the
   * number of polls made).
   */
  pollsSinceGoodSample = 0;

  /** Shifts in one poll: answered (1) or not (0). */
  shift(bit: 0 | 1): void {
    this.register = ((this.register << 1) | bit) & 0xff;
    if (this.size < 8) this.size++;
    this.pollsSinceGoodSample++;
    if (bit === 1) this.unreachableRun = 0;
    else if (this.register === 0) this.unreachableRun++;
  }

  /** Empties the register (chrony SRC_ResetReachability). */
  reset(): void {
    this.register = 0;
    this.size = 0;
  }
}
