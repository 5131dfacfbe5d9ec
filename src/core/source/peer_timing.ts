/**
 * When a symmetric peer sends next (chrony's get_transmit_poll and get_transmit_delay for
 * MODE_ACTIVE), as pure functions of the association's state.
 *
 * @module
 */
import { SAMPLING_RANDOMNESS } from "./ntp_schedule.ts";

/** chrony PEER_SAMPLING_ADJ: how much later to answer to interleave with the peer. */
export const PEER_SAMPLING_ADJ = 1.1;
/** Longest spacing of burst packets, seconds (chrony MAX_BURST_INTERVAL). */
const MAX_BURST_INTERVAL = 2;

/** What the delay depends on. */
export interface PeerTimingState {
  /** Our poll exponent. */
  poll: number;
  /** minpoll. */
  minPoll: number;
  /** The poll exponent the peer announced. */
  remotePoll: number;
  /** True while the peer is reachable (it answers). */
  reachable: boolean;
  /** In a burst. */
  inBurst: boolean;
  /** The peer's stratum (16 before it answered) minus ours. */
  stratumDiff: number;
  /** Seconds since our last packet (0 when called right after sending it). */
  sinceLastTx: number;
  /** Called right after sending (true) or after a valid packet from the peer (false). */
  onTx: boolean;
  /** A uniform random number in [0, 1). */
  random: number;
}

/** The poll used to send: the shorter of ours and the answering peer's, at least minpoll. */
export function peerTransmitPoll(
  s: Pick<PeerTimingState, "poll" | "minPoll" | "remotePoll" | "reachable">,
): number {
  if (s.poll > s.remotePoll && s.reachable) return Math.max(s.remotePoll, s.minPoll);
  return s.poll;
}

/**
 * Seconds from now to our next packet: the poll interval, 10 % later when the peer's
 * stratum is higher (so its packet comes first and our answer is fresh) or, at equal
 * stratum, after a packet of the peer's long after our last (to interleave evenly); bursts
 * at most 2 s apart; less the time since our last packet; 2 % random jitter.
 */
export function peerTransmitDelay(s: PeerTimingState): number {
  let delay = 2 ** peerTransmitPoll(s);
  if (s.inBurst) delay = Math.min(MAX_BURST_INTERVAL, 0.25 * delay);
  else if (
    (s.stratumDiff > 0 && s.sinceLastTx * PEER_SAMPLING_ADJ < delay) ||
    (!s.onTx && s.stratumDiff === 0 && s.sinceLastTx / delay > PEER_SAMPLING_ADJ - 0.5)
  ) delay *= PEER_SAMPLING_ADJ;
  // Counted from our last packet (chrony subtracts the time elapsed since): a peer that
  // sends more often must not keep pushing our packet back.
  delay = Math.max(0, delay - s.sinceLastTx);
  return delay * (1 + SAMPLING_RANDOMNESS * s.random);
}
