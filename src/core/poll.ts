/**
 * Polling-interval adaptation of an NTP source (chrony ntp_core.c get_poll_adj/adjust_poll):
 * a poll score accumulates adjustments; whole units move the poll exponent, which stays in
 * [minpoll, maxpoll] and is not sub-second unless the source is reachable on a LAN.
 *
 * @module
 */

/** Largest minimum delay (seconds) allowing sub-second polling (MAX_LAN_PEER_DELAY). */
export const MAX_LAN_PEER_DELAY = 0.01;
/** Poll adjustment per transmission with two or more requests unanswered. */
export const NO_RESPONSE_ADJ = 0.25;
/** Same, when the source is the selected one. */
export const NO_RESPONSE_SELECTED_ADJ = 0.1;
/** Poll adjustment for a valid reply that is not good (tests 6, 7, A, B or C failed). */
export const BAD_RESPONSE_ADJ = 0.02;
/** Poll adjustment for a reply that failed test D (a synchronisation loop). */
export const SYNC_LOOP_ADJ = 0.1;

/** A poll exponent with its score. */
export interface PollState {
  /** Current poll, log2 seconds. */
  poll: number;
  /** Accumulated score: >= 1 raises the poll, < 0 lowers it. */
  score: number;
}

/**
 * Adjustment after a good sample: poll faster when the prediction missed by more than the
 * peer distance, otherwise steer the sample count towards the poll target.
 */
export function pollAdjustment(
  errorInEstimate: number,
  peerDistance: number,
  samples: number,
  pollTarget: number,
): number {
  if (errorInEstimate > peerDistance && peerDistance > 0) {
    return -Math.log2(errorInEstimate / peerDistance);
  }
  let adj = (samples / pollTarget - 1) / pollTarget;
  if (samples < pollTarget) adj *= 2;
  return adj;
}

/**
 * Applies `adj` to the poll score and returns the new state (chrony adjust_poll).
 * `lanOk` tells whether sub-second polling is allowed (reachable, min delay <= 10 ms).
 */
export function adjustPoll(
  state: PollState,
  adj: number,
  minPoll: number,
  maxPoll: number,
  lanOk: boolean,
): PollState {
  let { poll, score } = state;
  score += adj;
  if (score >= 1) {
    const whole = Math.trunc(score);
    poll += whole;
    score -= whole;
  }
  if (score < 0) {
    const whole = Math.trunc(score - 1);
    poll += whole;
    score -= whole;
  }
  if (poll < minPoll) {
    poll = minPoll;
    score = 0;
  } else if (poll > maxPoll) {
    poll = maxPoll;
    score = 1;
  }
  if (poll < 0 && !lanOk) poll = 0;
  return { poll, score };
}
