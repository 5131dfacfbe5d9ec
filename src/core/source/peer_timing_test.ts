import assert from "node:assert/strict";
import { PEER_SAMPLING_ADJ, type PeerTimingState, peerTransmitDelay } from "./peer_timing.ts";

const BASE: PeerTimingState = {
  poll: 0,
  minPoll: 0,
  remotePoll: 0,
  reachable: true,
  inBurst: false,
  stratumDiff: 1,
  sinceLastTx: 0,
  onTx: true,
  random: 0,
};

Deno.test("peer timing: the next packet is counted from our last one, not from the peer's", () => {
  // Right after sending: one poll interval, 10 % later for a higher-stratum peer.
  assert.equal(peerTransmitDelay(BASE), PEER_SAMPLING_ADJ);
  // A packet from the peer 0.6 s after ours: our next still leaves 1.1 s after our last
  // (chrony subtracts the time elapsed), so a peer polling faster cannot push it back.
  const after = peerTransmitDelay({ ...BASE, onTx: false, sinceLastTx: 0.6 });
  assert.ok(Math.abs(after - (PEER_SAMPLING_ADJ - 0.6)) < 1e-12, `${after}`);
  // Overdue: at once.
  assert.equal(peerTransmitDelay({ ...BASE, onTx: false, sinceLastTx: 5 }), 0);
});
