/**
 * Batched datagram receive for the kernel-timestamp UDP socket (ffi/udp_socket.ts): one
 * recvmmsg(2) call reads up to `capacity` datagrams, each with its sender and its kernel
 * receive timestamp (SCM_TIMESTAMPNS); a reply goes back to a datagram's sender with
 * sendto right after the caller read its transmit time (sendmmsg would make that time late
 * for every reply but the first of a call; see src/io/ntp_server.ts).
 *
 * Everything is allocated once: the datagram slots, sender addresses, control buffers,
 * iovecs and mmsghdr array live in a few typed arrays whose addresses the headers point at;
 * receiving and replying allocate nothing per datagram (IPv4 sender texts are cached).
 * Linux x86-64/aarch64 layouts (LP64). Needs --allow-ffi.
 *
 * @module
 */
import { describeErrno } from "./errno.ts";
import { lastErrno } from "./libc.ts";
import { findRxTimestamp } from "./cmsg_timestamps.ts";
import { readSockaddr } from "./sockaddr.ts";
import type { Instant } from "../src/base/time.ts";

const SYMBOLS = {
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
} as const;

type BatchLibc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let symbols: BatchLibc | null = null;

function batchLibc(): BatchLibc {
  if (symbols === null) symbols = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return symbols;
}

const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const SOL_SOCKET = 1;
const SCM_TIMESTAMPNS = 35;
const EAGAIN = 11;
const EINTR = 4;
/** sizeof(struct mmsghdr) on LP64: a 56-octet msghdr, msg_len, padding. */
const MMSG_SIZE = 64;
/** Room for one sockaddr_in6 (28 octets), rounded up. */
const NAME_SIZE = 32;
/** Room for SCM_TIMESTAMPNS (32 octets) and one more small message. */
const CONTROL_SIZE = 64;
const IOV_SIZE = 16;
const AF_INET = 2;
const AF_INET6 = 10;
/** IPv4 address texts kept (shared by all batches; cleared when full). */
const IPV4_CACHE = 4096;
const ipv4Texts = new Map<number, string>();

function addressOf(b: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

/** Preallocated buffers for up to `capacity` datagrams of up to `slotLength` octets. */
export class DatagramBatch {
  /** Largest number of datagrams per receive. */
  readonly capacity: number;
  /** Largest datagram kept whole (longer ones are truncated and flagged). */
  readonly slotLength: number;
  readonly #data: Uint8Array;
  readonly #names: Uint8Array;
  /** Address of the sender slots (user-space pointers fit a double exactly). */
  readonly #namesBase: number;
  readonly #namesView: DataView;
  readonly #nameViews: Uint8Array[] = [];
  readonly #control: Uint8Array;
  readonly #controlView: DataView;
  readonly #recvHeaders: Uint8Array;
  readonly #recvView: DataView;
  readonly #lengths: Int32Array;
  readonly #recvIovs: Uint8Array;
  #count = 0;
  /** Header slots whose written-back sizes must be reset before the next receive. */
  #dirty: number;

  /** Allocates room for `capacity` datagrams of `slotLength` octets. */
  constructor(capacity = 64, slotLength = 4096) {
    if (capacity < 1 || capacity > 1024) throw new RangeError("batch capacity 1..1024");
    this.capacity = capacity;
    this.slotLength = slotLength;
    this.#dirty = capacity;
    this.#data = new Uint8Array(capacity * slotLength);
    this.#names = new Uint8Array(capacity * NAME_SIZE);
    this.#namesView = new DataView(this.#names.buffer);
    this.#namesBase = Number(addressOf(this.#names));
    this.#control = new Uint8Array(capacity * CONTROL_SIZE);
    this.#controlView = new DataView(this.#control.buffer);
    this.#recvHeaders = new Uint8Array(capacity * MMSG_SIZE);
    this.#recvView = new DataView(this.#recvHeaders.buffer);
    this.#lengths = new Int32Array(capacity);
    // Kept alive with the batch: the receive headers point into it.
    this.#recvIovs = new Uint8Array(capacity * IOV_SIZE);
    const recvIovs = this.#recvIovs;
    const iv = new DataView(recvIovs.buffer);
    const data = addressOf(this.#data);
    const names = addressOf(this.#names);
    const control = addressOf(this.#control);
    const riov = addressOf(recvIovs);
    for (let i = 0; i < capacity; i++) {
      iv.setBigUint64(i * IOV_SIZE, data + BigInt(i * slotLength), true);
      iv.setBigUint64(i * IOV_SIZE + 8, BigInt(slotLength), true);
      const h = i * MMSG_SIZE;
      const r = this.#recvView;
      r.setBigUint64(h, names + BigInt(i * NAME_SIZE), true);
      r.setBigUint64(h + 16, riov + BigInt(i * IOV_SIZE), true);
      r.setBigUint64(h + 24, 1n, true);
      r.setBigUint64(h + 32, control + BigInt(i * CONTROL_SIZE), true);
      this.#nameViews.push(this.#names.subarray(i * NAME_SIZE, i * NAME_SIZE + 28));
    }
  }

  /** Datagrams held by the last receive. */
  get count(): number {
    return this.#count;
  }

  /**
   * Reads up to `capacity` waiting datagrams from socket `fd` without blocking: how many
   * (0 when none waits). Throws on an error other than EAGAIN/EINTR.
   */
  receiveFrom(fd: number): number {
    const r = this.#recvView;
    // msg_namelen, msg_controllen and msg_flags are written back for the datagrams received:
    // only those slots need their sizes again (all of them before the first call).
    for (let i = 0; i < this.#dirty; i++) {
      const h = i * MMSG_SIZE;
      r.setUint32(h + 8, 28, true);
      r.setUint32(h + 40, CONTROL_SIZE, true);
      r.setUint32(h + 44, 0, true);
      r.setInt32(h + 48, 0, true);
    }
    this.#dirty = 0;
    for (;;) {
      const n = batchLibc().recvmmsg(fd, this.#recvHeaders, this.capacity, MSG_DONTWAIT, null);
      if (n >= 0) {
        this.#count = n;
        this.#dirty = n;
        for (let i = 0; i < n; i++) {
          const len = r.getUint32(i * MMSG_SIZE + 56, true);
          this.#lengths[i] = Math.min(len, this.slotLength);
        }
        return n;
      }
      const e = lastErrno();
      if (e === EINTR) continue;
      this.#count = 0;
      if (e === EAGAIN) return 0;
      throw new Error(`recvmmsg failed: ${describeErrno(e)}`);
    }
  }

  /** Datagram `i` of the last receive (a view into the batch, valid until the next). */
  data(i: number): Uint8Array {
    const at = i * this.slotLength;
    return this.#data.subarray(at, at + this.#lengths[i]);
  }

  /** True when datagram `i` was longer than the slot (its tail was cut off). */
  truncated(i: number): boolean {
    return (this.#recvView.getInt32(i * MMSG_SIZE + 48, true) & MSG_TRUNC) !== 0;
  }

  /**
   * Sender address of datagram `i` as text (IPv4-mapped addresses as IPv4). IPv4 texts are
   * cached by address (at most IPV4_CACHE of them), so a busy client costs no string.
   */
  senderAddress(i: number): string {
    const at = i * NAME_SIZE;
    const v = this.#namesView;
    const family = v.getUint16(at, true);
    let a = -1;
    if (family === AF_INET) a = v.getUint32(at + 4, false);
    else if (
      family === AF_INET6 && v.getUint32(at + 8) === 0 && v.getUint32(at + 12) === 0 &&
      v.getUint32(at + 16) === 0xffff
    ) a = v.getUint32(at + 20, false);
    if (a < 0) {
      return readSockaddr(
        new DataView(this.#names.buffer, at, NAME_SIZE),
        this.#names.subarray(at, at + NAME_SIZE),
      ).hostname;
    }
    let text = ipv4Texts.get(a);
    if (text === undefined) {
      text = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
      if (ipv4Texts.size >= IPV4_CACHE) ipv4Texts.clear();
      ipv4Texts.set(a, text);
    }
    return text;
  }

  /** Sender port of datagram `i`. */
  senderPort(i: number): number {
    return this.#namesView.getUint16(i * NAME_SIZE + 2, false);
  }

  /** Kernel receive timestamp (CLOCK_REALTIME) of datagram `i`, or null. */
  kernelRx(i: number): Instant | null {
    const at = i * CONTROL_SIZE;
    const len = this.#recvView.getUint32(i * MMSG_SIZE + 40, true); // at most CONTROL_SIZE
    const c = this.#controlView;
    // The common case: SCM_TIMESTAMPNS is the only (first) control message.
    if (
      len >= 32 && c.getInt32(at + 8, true) === SOL_SOCKET &&
      c.getInt32(at + 12, true) === SCM_TIMESTAMPNS
    ) {
      return c.getBigInt64(at + 16, true) * 1_000_000_000n + c.getBigInt64(at + 24, true);
    }
    return findRxTimestamp(this.#control.subarray(at, at + CONTROL_SIZE), Math.min(len, 64));
  }

  /**
   * Address of datagram `i`'s sender sockaddr (for a batched reply's msg_name), as a
   * number (exact: user-space addresses are below 2^53).
   */
  nameAddress(i: number): number {
    return this.#namesBase + i * NAME_SIZE;
  }

  /** Length of datagram `i`'s sender sockaddr as the kernel wrote it. */
  nameLength(i: number): number {
    return this.#recvView.getUint32(i * MMSG_SIZE + 8, true);
  }

  /** Sends `data` to the sender of datagram `i` at once; false if the kernel refused it. */
  replyTo(fd: number, i: number, data: Uint8Array): boolean {
    const nameLen = this.#recvView.getUint32(i * MMSG_SIZE + 8, true);
    const n = Number(
      batchLibc().sendto(fd, data, BigInt(data.length), 0, this.#nameViews[i], nameLen),
    );
    return n === data.length;
  }
}
