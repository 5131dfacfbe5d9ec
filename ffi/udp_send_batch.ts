/**
 * Batched replies for the kernel-timestamp UDP socket: the replies to the datagrams of one
 * receive batch (ffi/udp_batch.ts) are copied into preallocated slots as they are made and
 * leave with one sendmmsg(2) call, each to the sender of the datagram it answers (the
 * destination address is the receive batch's own sender slot: no address is parsed or
 * written per reply).
 *
 * Every reply is still its own datagram to the kernel, so a socket with kernel transmit
 * timestamps (SO_TIMESTAMPING) gets one transmit report per reply on its error queue,
 * exactly as with one sendto per reply (interleaved mode matches them by their payload).
 *
 * Everything is allocated once (slots, iovecs, mmsghdr array); staging and sending allocate
 * nothing. Linux x86-64/aarch64 layouts (LP64). Needs --allow-ffi.
 *
 * @module
 */
import { lastErrno } from "./libc.ts";
import type { DatagramBatch } from "./udp_batch.ts";
import { MSG_PROBE } from "./socket_options.ts";

const SYMBOLS = {
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
} as const;

type SendLibc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let symbols: SendLibc | null = null;

function sendLibc(): SendLibc {
  if (symbols === null) symbols = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return symbols;
}

/** sizeof(struct mmsghdr) on LP64. */
const MMSG_SIZE = 64;
const IOV_SIZE = 16;
const EINTR = 4;

function addressOf(b: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

/** Outcome of {@link ReplyBatch.sendTo}. */
export interface SendOutcome {
  /** Replies the kernel took. */
  sent: number;
  /** Replies it refused (each skipped after its error). */
  failed: number;
}

/** Up to `capacity` replies of up to `slotLength` octets, sent with one sendmmsg. */
export class ReplyBatch {
  /** Largest number of replies staged at once. */
  readonly capacity: number;
  /** Largest reply (longer ones are refused by `stage`). */
  readonly slotLength: number;
  readonly #slots: Uint8Array;
  /** A view over every slot: reply k starts at `k * slotLength`. */
  readonly slotsView: DataView;
  readonly #slotBase: bigint;
  readonly #headers: Uint8Array;
  readonly #view: DataView;
  readonly #iovs: Uint8Array;
  readonly #iovView: DataView;
  #count = 0;
  readonly #outcome: SendOutcome = { sent: 0, failed: 0 };

  /** Allocates room for `capacity` replies of up to `slotLength` octets. */
  constructor(capacity = 64, slotLength = 512) {
    if (capacity < 1 || capacity > 1024) throw new RangeError("reply batch capacity 1..1024");
    this.capacity = capacity;
    this.slotLength = slotLength;
    this.#slots = new Uint8Array(capacity * slotLength);
    this.#slotBase = addressOf(this.#slots);
    this.slotsView = new DataView(this.#slots.buffer);
    this.#headers = new Uint8Array(capacity * MMSG_SIZE);
    this.#view = new DataView(this.#headers.buffer);
    this.#iovs = new Uint8Array(capacity * IOV_SIZE);
    this.#iovView = new DataView(this.#iovs.buffer);
    const iovBase = addressOf(this.#iovs);
    for (let k = 0; k < capacity; k++) {
      this.#iovView.setBigUint64(k * IOV_SIZE, this.#slotBase + BigInt(k * slotLength), true);
      const h = k * MMSG_SIZE;
      this.#view.setBigUint64(h + 16, iovBase + BigInt(k * IOV_SIZE), true); // msg_iov
      this.#view.setBigUint64(h + 24, 1n, true); // msg_iovlen
      // msg_control, msg_controllen, msg_flags stay 0.
    }
  }

  /** Replies staged and not yet sent. */
  get count(): number {
    return this.#count;
  }

  /** True when no more reply can be staged before a send. */
  get full(): boolean {
    return this.#count === this.capacity;
  }

  /**
   * Copies `reply` into the next slot, addressed to the sender of datagram `i` of `from`
   * (whose sender slot must stay untouched until the send). False when the batch is full
   * or the reply is longer than a slot.
   */
  stage(reply: Uint8Array, from: DatagramBatch, i: number): boolean {
    const k = this.#count;
    if (k === this.capacity || reply.length > this.slotLength) return false;
    this.#slots.set(reply, k * this.slotLength);
    this.#iovView.setUint32(k * IOV_SIZE + 8, reply.length, true); // high half stays 0
    const h = k * MMSG_SIZE;
    const name = from.nameAddress(i); // msg_name, written as two 32-bit halves
    this.#view.setUint32(h, name % 4294967296, true);
    this.#view.setUint32(h + 4, Math.floor(name / 4294967296), true);
    this.#view.setUint32(h + 8, from.nameLength(i), true); // msg_namelen
    this.#count = k + 1;
    return true;
  }

  /**
   * The staged reply `k` (a view into its slot, valid until the next send): the caller may
   * rewrite fields in place before the send (never its length).
   */
  staged(k: number): Uint8Array {
    const at = k * this.slotLength;
    const len = this.#iovView.getUint32(k * IOV_SIZE + 8, true);
    return this.#slots.subarray(at, at + len);
  }

  /**
   * Sends every staged reply on socket `fd` (one sendmmsg; again for the rest after a
   * partial send; a reply the kernel refuses is skipped and counted) and empties the batch.
   * The returned object is reused by the next call.
   */
  sendTo(fd: number): SendOutcome {
    const out = this.#outcome;
    out.sent = 0;
    out.failed = 0;
    let from = 0;
    const n = this.#count;
    while (from < n) {
      const r = from === 0
        ? sendLibc().sendmmsg(fd, this.#headers, n, 0)
        : sendLibc().sendmmsg(fd, this.#headers.subarray(from * MMSG_SIZE), n - from, 0);
      if (r > 0) {
        out.sent += r;
        from += r;
        continue;
      }
      const e = lastErrno();
      if (r < 0 && e === EINTR) continue;
      // The first remaining reply failed (a full buffer, an unreachable sender): skip it.
      out.failed++;
      from++;
    }
    this.#count = 0;
    return out;
  }

  /**
   * Walks the kernel's send path of the first staged reply on socket `fd` without sending
   * anything (sendmmsg of one message with MSG_PROBE); nothing when none is staged. See
   * `KernelTimestampSocket.probeDestination` for why.
   */
  probeFirst(fd: number): void {
    if (this.#count > 0) sendLibc().sendmmsg(fd, this.#headers, 1, MSG_PROBE);
  }

  /** Drops every staged reply unsent. */
  clear(): void {
    this.#count = 0;
  }
}
