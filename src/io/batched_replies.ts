/**
 * The server's reply sender: the replies to the datagrams of one receive batch are staged
 * in preallocated slots (ffi/udp_send_batch.ts) and leave with one sendmmsg per group of
 * up to `group` replies, instead of one sendto each.
 *
 * The transmit timestamp. A basic-mode reply must carry its transmit time, and the kernel
 * sends the replies of one call one after the other (on loopback each send includes the
 * delivery to the client, a few µs). A time read when each reply is made would be late by
 * about `group` times that cost for every reply (measured: 9 µs at 4 per call, 77 µs at
 * 64, against 2.3 µs with one sendto each). So the transmit field of a reply stamped from
 * the clock (exactly the time the responder read, and no MAC after it) is written again
 * with one reading of the clock just before the call: reply k of a call is then late by
 * the send cost of the k replies before it, never early (a transmit time is never after
 * the reply's departure). Predicting each departure from the measured per-reply cost was
 * tried (a smoothed mean, then a least-squares slope over call sizes): the cost varies
 * too much from reply to reply (wake-ups of the receiving clients) and the predictions
 * overshot by up to 14 µs. The group bounds the lateness; docs/benchmarks.md has the
 * figures (the load generator measures the client's kernel receive time minus the served
 * transmit time, and the offset a client computes).
 *
 * Replies whose transmit field is not the clock's (interleaved mode, which carries an
 * earlier kernel transmit timestamp) or that carry a MAC are sent as they are. Kernel
 * transmit timestamps are unaffected: each reply is its own datagram with its own report
 * on the error queue.
 *
 * @module
 */
import { ReplyBatch } from "../../ffi/udp_send_batch.ts";
import { writeNtpTimestamp } from "../core/server.ts";
import type { CookedBatch, KernelSocket } from "./kernel_socket.ts";

/**
 * Replies sent per sendmmsg by default. Only a saturated server has more than one request
 * per receive batch, so at ordinary load every reply still leaves alone, its transmit time
 * as accurate as with one sendto. Under saturation (measured on loopback, docs/benchmarks.md),
 * 4 per call cost replies a median 8 µs from transmit time to the client's kernel receive
 * time (2.3 µs one by one), a median offset of -2.5 µs (5th percentile -11 µs) while the
 * clients' round trips were 750 µs, and saved 5-10 % of CPU per request; 16 per call saved
 * 15 % but put the median offset at -12 µs.
 */
export const DEFAULT_REPLY_GROUP = 4;
/** Longest reply staged (a header, extension fields and a MAC); longer ones go alone. */
const REPLY_SLOT = 1024;
/** NTP header length and the transmit timestamp's offset in it. */
const HEADER = 48;
const TX_AT = 40;

/** Stages replies of a receive batch and sends them in groups. */
export class BatchedReplies {
  readonly #sock: KernelSocket;
  readonly #replies: ReplyBatch;
  readonly #group: number;
  /** 1 where staged reply k carries the clock's transmit time (rewritten at the send). */
  readonly #restamp: Uint8Array;
  readonly #scratch = new Uint8Array(8);
  readonly #scratchView = new DataView(this.#scratch.buffer);

  /** Replies for `sock`, sent `group` per call (1..64). */
  constructor(sock: KernelSocket, group = DEFAULT_REPLY_GROUP) {
    if (!Number.isInteger(group) || group < 1 || group > 64) {
      throw new RangeError("reply group 1..64");
    }
    this.#sock = sock;
    this.#group = group;
    this.#replies = new ReplyBatch(group, REPLY_SLOT);
    this.#restamp = new Uint8Array(group);
  }

  /**
   * Queues `reply` (copied at once) to the sender of datagram `i` of `batch`; `restamp` says
   * its transmit field is the clock's reading with nothing covering it
   * (`NtpResponder.txFromClock`), so a later reading may replace it at the send. Sends the
   * group when full. Returns the number of replies that failed to go out (0 usually).
   */
  reply(batch: CookedBatch, i: number, reply: Uint8Array, restamp: boolean): number {
    if (this.#group === 1 || reply.length > REPLY_SLOT) {
      return this.#sock.replyInBatch(batch, i, reply) ? 0 : 1;
    }
    this.#restamp[this.#replies.count] = restamp && reply.length === HEADER ? 1 : 0;
    this.#replies.stage(reply, batch.raw, i);
    return this.#replies.full ? this.flush(batch) : 0;
  }

  /**
   * Restamps and sends what is staged (call before `batch` is received into again); how
   * many failed.
   */
  flush(batch: CookedBatch): number {
    const n = this.#replies.count;
    if (n === 0) return 0;
    // One reading for the whole call, as late as possible: reply k leaves after k others.
    const view = this.#replies.slotsView;
    const slot = this.#replies.slotLength;
    writeNtpTimestamp(this.#scratchView, 0, this.#sock.transmitTimeAfter(batch, this.#replies));
    const seconds = this.#scratchView.getUint32(0);
    const fraction = this.#scratchView.getUint32(4) & 0xfffffffe; // the interleaved-mode flag
    for (let k = 0; k < n; k++) {
      if (this.#restamp[k] !== 1) continue;
      view.setUint32(k * slot + TX_AT, seconds);
      view.setUint32(k * slot + TX_AT + 4, fraction);
    }
    const out = this.#sock.sendReplies(this.#replies);
    return out.failed;
  }
}
