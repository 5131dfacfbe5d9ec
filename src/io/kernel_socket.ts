/**
 * The kernel-timestamp socket adapter: a libc UDP socket (ffi/udp_socket.ts) whose
 * datagrams come out with their receive time already cooked, and whose sends report their
 * transmit time cooked, both made once by the rule of kernel_timestamps.ts. The NTP server,
 * the daemon's client transport and the one-shot exchange all go through it, so a kernel
 * timestamp means the same thing everywhere. It holds no timing policy: when to send, how
 * long to wait and what to answer are the caller's (core's) business.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";
import {
  type ClockPair,
  type CookedTime,
  cookKernelTimestamp,
  cookRealtimeAfter,
  type TimeScale,
} from "./kernel_timestamps.ts";
import { KernelTimestampSocket, kernelTimestampSocketsAvailable } from "../../ffi/udp_socket.ts";
import { DatagramBatch } from "../../ffi/udp_batch.ts";
import type { ReplyBatch, SendOutcome } from "../../ffi/udp_send_batch.ts";
import { udpPayloadOfFrame } from "./tx_frames.ts";

/**
 * Datagrams read by one `KernelSocket.receiveBatch`, receive times cooked. Everything is
 * allocated once; views and values are valid until the next receive into the same batch.
 */
export class CookedBatch {
  /** The raw batch (datagram slots, senders, kernel timestamps). */
  readonly raw: DatagramBatch;
  /** Cooked receive time of each datagram. */
  readonly rx: Instant[];
  /** 1 where the receive time is the kernel's, 0 where it is the time of reading. */
  readonly kernelRx: Uint8Array;
  /** Both clocks as read for this batch's receive times. */
  readonly clocks: ClockPair = { realtime: 0n, raw: 0n };

  /** Room for `capacity` datagrams of up to `slotLength` octets. */
  constructor(capacity = 64, slotLength = 4096) {
    this.raw = new DatagramBatch(capacity, slotLength);
    this.rx = new Array<Instant>(capacity).fill(0n);
    this.kernelRx = new Uint8Array(capacity);
  }

  /** Datagrams held. */
  get count(): number {
    return this.raw.count;
  }
}

/** Longest CLOCK_REALTIME interval around a raw clock reading that is taken as is, ns. */
const PAIR_GAP_NS = 4_000n;
/** Readings of the clock pair at most. */
const PAIR_TRIES = 4;

/** One received datagram, its receive time cooked. */
export interface CookedDatagram {
  /** The datagram bytes: a view into the socket's buffer, valid until the next receive. */
  data: Uint8Array;
  /** Sender address (IPv4-mapped addresses on dual-stack sockets are reported as IPv4). */
  address: string;
  /** Sender port. */
  port: number;
  /** Cooked receive time. */
  rx: Instant;
  /** True when `rx` is the kernel's timestamp (false: the time the datagram was read). */
  kernelRx: boolean;
}

/** Options of {@link KernelSocket.open}. */
export interface KernelSocketOptions {
  /** The clock timestamps are cooked onto. */
  scale: TimeScale;
  /** Largest datagram read (longer ones are truncated). Default 4096. */
  maxLength?: number;
  /** Ask for kernel transmit timestamps too (reported by `sendStamped`). */
  txTimestamps?: boolean;
  /** Sets options on the new socket before bind (bindacqdevice, dscp). */
  configure?: (fd: number, family: number) => void;
}

/** True when kernel-timestamp sockets can be used here (Linux, glibc, FFI permitted). */
export function kernelSocketsAvailable(): boolean {
  return kernelTimestampSocketsAvailable();
}

/** A UDP socket whose timestamps are cooked once, by one rule. */
export class KernelSocket {
  readonly #socket: KernelTimestampSocket;
  readonly #scale: TimeScale;
  readonly #pair: ClockPair = { realtime: 0n, raw: 0n };
  /** Bound address and port. */
  readonly local: { hostname: string; port: number };

  private constructor(socket: KernelTimestampSocket, scale: TimeScale) {
    this.#socket = socket;
    this.#scale = scale;
    this.local = socket.local;
  }

  /** Opens a socket bound to `host`:`port` (port 0: any). Throws on failure. */
  static open(host: string, port: number, options: KernelSocketOptions): KernelSocket {
    const socket = KernelTimestampSocket.open(
      host,
      port,
      options.maxLength ?? 4096,
      options.configure,
    );
    if (options.txTimestamps) socket.enableTxTimestamps();
    return new KernelSocket(socket, options.scale);
  }

  /**
   * Reads both clocks back to back: the raw clock between two CLOCK_REALTIME readings,
   * whose midpoint pairs with it (so the time a reading takes biases nothing). A reading
   * interrupted for longer than PAIR_GAP_NS (the thread was preempted) is taken again; of
   * PAIR_TRIES the tightest is kept.
   */
  #readClocks(): ClockPair {
    let bestGap = -1n;
    for (let i = 0; i < PAIR_TRIES; i++) {
      const before = this.#socket.realtimeNow();
      const raw = this.#scale.rawNow();
      const after = this.#socket.realtimeNow();
      const gap = after - before;
      if (bestGap < 0n || gap < bestGap) {
        bestGap = gap;
        this.#pair.raw = raw;
        this.#pair.realtime = (before + after) / 2n;
      }
      if (gap <= PAIR_GAP_NS) break;
    }
    return this.#pair;
  }

  /** Cooks a kernel timestamp (null: none) with both clocks read now. */
  cook(kernel: Instant | null): CookedTime {
    return cookKernelTimestamp(kernel, this.#readClocks(), this.#scale);
  }

  /** Waits until a datagram may be read; false when the socket was closed. */
  waitReadable(): Promise<boolean> {
    return this.#socket.waitReadable();
  }

  /** Reads one datagram without blocking, its receive time cooked; null when none waits. */
  receive(): CookedDatagram | null {
    const d = this.#socket.receive();
    if (d === null) return null;
    const t = this.cook(d.kernelRxRaw);
    return { data: d.data, address: d.address, port: d.port, rx: t.time, kernelRx: t.kernel };
  }

  /**
   * Reads every datagram waiting (up to the batch's capacity) in one call, each receive time
   * cooked by the one rule against one reading of the clocks: how many (0: none waits).
   */
  receiveBatch(batch: CookedBatch): number {
    const n = this.#socket.receiveBatch(batch.raw);
    if (n === 0) return 0;
    const pair = this.#readClocks();
    batch.clocks.realtime = pair.realtime;
    batch.clocks.raw = pair.raw;
    for (let i = 0; i < n; i++) {
      const t = cookKernelTimestamp(batch.raw.kernelRx(i), pair, this.#scale);
      batch.rx[i] = t.time;
      batch.kernelRx[i] = t.kernel ? 1 : 0;
    }
    return n;
  }

  /**
   * Cooked time now, through the clocks read for `batch` (`cookRealtimeAfter`): one
   * CLOCK_REALTIME reading instead of the scale's raw clock, else the scale itself.
   */
  cookedNowAfter(batch: CookedBatch): Instant {
    const t = cookRealtimeAfter(this.#socket.realtimeNow(), batch.clocks, this.#scale);
    return t ?? this.#scale.cook(this.#scale.rawNow());
  }

  /** Sends the replies staged in `replies` with one call (sendmmsg) and empties it. */
  sendReplies(replies: ReplyBatch): SendOutcome {
    return this.#socket.sendReplies(replies);
  }

  /** Sends `data` to the sender of datagram `i` of `batch` at once; false if refused. */
  replyInBatch(batch: CookedBatch, i: number, data: Uint8Array): boolean {
    return this.#socket.replyInBatch(batch.raw, i, data);
  }

  /**
   * Sends `data` to `address`:`port` at once; null when the whole datagram went out, else
   * why not ("sendto: ENETUNREACH", "not an IP address", "socket closed").
   */
  send(data: Uint8Array, address: string, port: number): string | null {
    return this.#socket.trySend(data, address, port);
  }

  /**
   * Sends like `send`, then reads the kernel's transmit timestamp (sockets opened with
   * `txTimestamps`): `tx` is it cooked, or null when there is none or it is not trusted
   * (the caller keeps the time it read before sending).
   */
  sendStamped(
    data: Uint8Array,
    address: string,
    port: number,
  ): { error: string | null; tx: Instant | null } {
    const error = this.#socket.trySend(data, address, port);
    if (error !== null) return { error, tx: null };
    const raw = this.#socket.readTxTimestamp();
    if (raw === null) return { error, tx: null };
    const t = this.cook(raw);
    return { error, tx: t.kernel ? t.time : null };
  }

  /**
   * Turns kernel transmit timestamps on for an open socket, returned with each datagram as
   * sent (the NTP server does so on the first reply saved for interleaved mode, and matches
   * each timestamp to its reply by the reply's contents); false when the kernel refuses.
   */
  enableTxFrames(): boolean {
    return this.#socket.enableTxFrames();
  }

  /**
   * Reads one transmit report of the error queue (after `enableTxFrames`): the UDP payload
   * of the datagram as sent (a view, valid until the next read; null when the frame could
   * not be decoded) and `cook`, which cooks its kernel timestamp (null: none or not
   * trusted) with the clocks read when called; null when the queue is empty.
   */
  readTxFrame(): { payload: Uint8Array | null; cook: () => Instant | null } | null {
    const r = this.#socket.readTxFrame();
    if (r === null) return null;
    const raw = r.tx;
    return {
      payload: udpPayloadOfFrame(r.frame),
      cook: () => {
        if (raw === null) return null;
        const t = this.cook(raw);
        return t.kernel ? t.time : null;
      },
    };
  }

  /**
   * A transmit timestamp that came after `sendStamped` returned (the datagram waited in a
   * queue of the kernel), cooked; null when none is there or it is not trusted. Sockets
   * opened with `txTimestamps`.
   */
  lateTx(): Instant | null {
    const raw = this.#socket.readTxTimestamp();
    if (raw === null) return null;
    const t = this.cook(raw);
    return t.kernel ? t.time : null;
  }

  /** Sends `data` back to the sender of the last datagram received; false if refused. */
  replyToLast(data: Uint8Array): boolean {
    return this.#socket.replyToLast(data);
  }

  /** Closes the socket and wakes a pending `waitReadable`. */
  close(): void {
    this.#socket.close();
  }
}
