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
import { writeNtpTimestamp } from "../core/server.ts";
import { NTP_HEADER_LENGTH } from "../ntp/packet.ts";
import {
  findUdpDescriptor,
  LastRxTimestamp,
  nextDatagramLength,
  setRxTimestamps,
} from "../../ffi/shared_udp_fd.ts";
import { ipBytes, writeSockaddr } from "../../ffi/sockaddr.ts";
import { AF_INET, AF_INET6 } from "../../ffi/socket_options.ts";

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
/** Where a reply's transmit timestamp starts. */
const REPLY_TX_AT = 40;
/**
 * An idle gap after which the kernel's send path is cold (its code and data out of the
 * caches): the next transmit time read probes it first (`transmitTimeAfter`).
 */
const COLD_SEND_NS = 1_000_000n;
/** What a probe of the send path pretends to send (nothing is sent). */
const REPLY_PROBE = new Uint8Array(NTP_HEADER_LENGTH);

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
export const kernelSocketsAvailable: () => boolean = kernelTimestampSocketsAvailable;

/** One datagram read by {@link KernelSocket.receiveOne}: a view, valid until the next. */
export interface SharedDatagram {
  /** The datagram's octets. */
  data: Uint8Array;
  /** Its sender (IPv4-mapped addresses as IPv4). */
  address: string;
  /** Its sender's port. */
  port: number;
}

/** A UDP socket whose timestamps are cooked once, by one rule. */
export class KernelSocket {
  readonly #socket: KernelTimestampSocket;
  readonly #scale: TimeScale;
  readonly #pair: ClockPair = { realtime: 0n, raw: 0n };
  /** The Deno socket sharing the descriptor (openShared), else null. */
  readonly #conn: Deno.DatagramConn | null;
  readonly #lastRx = new LastRxTimestamp();
  readonly #buffer: Uint8Array;
  readonly #one: SharedDatagram = { data: new Uint8Array(0), address: "", port: 0 };
  /** A transmit timestamp being written (`replyToOne` restamping). */
  readonly #txStamp = new Uint8Array(8);
  readonly #txView = new DataView(this.#txStamp.buffer);
  /** CLOCK_REALTIME read with the datagrams of the last restamped replies, ns. */
  #lastRestamp = 0n;
  /** SO_TIMESTAMPNS is on (always, but for a shared socket waiting through Deno). */
  #rxStamps = true;
  #txFrames = false;
  #linkLocalSeen = false;
  /** Bound address and port. */
  readonly local: { hostname: string; port: number };

  private constructor(
    socket: KernelTimestampSocket,
    scale: TimeScale,
    conn: Deno.DatagramConn | null = null,
    maxLength = 4096,
  ) {
    this.#socket = socket;
    this.#scale = scale;
    this.#conn = conn;
    this.#buffer = new Uint8Array(conn === null ? 0 : maxLength);
    this.local = socket.local;
  }

  /**
   * Opens a socket bound to `host`:`port` through Deno.listenDatagram and shares its
   * descriptor (ffi/shared_udp_fd.ts), so that `receiveOne` waits in Deno's own event loop
   * and still gets the datagram's kernel receive timestamp. Options that must be set before
   * bind (`configure`) and transmit timestamps at open are not available. Throws when the
   * socket cannot be bound or its descriptor is not found (the socket is then closed).
   */
  static openShared(host: string, port: number, options: KernelSocketOptions): KernelSocket {
    if (options.configure !== undefined || options.txTimestamps) {
      throw new Error("a shared socket takes no configure or txTimestamps option");
    }
    const addr = ipBytes(host);
    if (addr === null) throw new Error(`not an IP address: ${host}`);
    const conn = Deno.listenDatagram({ transport: "udp", hostname: host, port });
    try {
      const family = addr.length === 4 ? AF_INET : AF_INET6;
      const name = new Uint8Array(28);
      const bound = (conn.addr as Deno.NetAddr).port;
      const length = writeSockaddr(new DataView(name.buffer), family, addr, bound);
      const fd = findUdpDescriptor(name, length);
      if (fd === null) throw new Error(`descriptor of UDP ${host} port ${bound} not found`);
      const maxLength = options.maxLength ?? 4096;
      const socket = KernelTimestampSocket.adopt(fd, family, maxLength, false);
      const shared = new KernelSocket(socket, options.scale, conn, maxLength);
      shared.#rxStamps = false;
      // The first SIOCGSTAMPNS makes the kernel stamp every datagram from now on.
      shared.#lastRx.read(fd);
      return shared;
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /**
   * True when `receiveOne` can be used: a shared socket without transmit timestamps (with
   * them on, the kernel no longer keeps the per-socket receive timestamp) that has not seen
   * an IPv6 link-local sender.
   */
  get receivesThroughDeno(): boolean {
    return this.#conn !== null && !this.#txFrames && !this.#linkLocalSeen;
  }

  /**
   * Waits in Deno's event loop for the next datagram and reads it (shared sockets, when
   * `receivesThroughDeno`): its sender, and its receive time cooked into slot 0 of `batch`
   * (`batch.rx[0]`, `batch.kernelRx[0]`, `batch.clocks`, so `cookedNowAfter(batch)` works).
   * Null when the socket was closed; throws on a receive error.
   */
  async receiveOne(batch: CookedBatch): Promise<SharedDatagram | null> {
    const conn = this.#conn;
    if (conn === null) throw new Error("not a shared socket");
    const fd = this.#socket.fd;
    if (this.#rxStamps && setRxTimestamps(fd, false)) this.#rxStamps = false;
    let got: [Uint8Array, Deno.Addr];
    try {
      got = await conn.receive(this.#buffer);
    } catch (e) {
      if (this.#socket.closed) return null;
      throw e;
    }
    if (this.#socket.closed) return null;
    const kernel = this.#rxStamps ? null : this.#lastRx.read(fd);
    const pair = this.#readClocks();
    batch.clocks.realtime = pair.realtime;
    batch.clocks.raw = pair.raw;
    const t = cookKernelTimestamp(kernel, pair, this.#scale);
    batch.rx[0] = t.time;
    batch.kernelRx[0] = t.kernel ? 1 : 0;
    const from = got[1] as Deno.NetAddr;
    const one = this.#one;
    one.data = got[0];
    one.address = from.hostname.startsWith("::ffff:") && from.hostname.includes(".")
      ? from.hostname.slice(7)
      : from.hostname;
    one.port = from.port;
    // Deno gives no scope with an IPv6 link-local sender: such a reply cannot be addressed,
    // so the socket goes back to poll() and batched reads, which keep it.
    if (one.address.startsWith("fe80:")) this.#linkLocalSeen = true;
    if (!this.#socket.setDestination(one.address, one.port)) {
      throw new Error(`unusable sender address ${one.address}`);
    }
    return one;
  }

  /**
   * Sends `data` to the sender of the datagram `receiveOne` returned; false if refused.
   * With `restampAfter` (the batch `receiveOne` filled) a 48-octet reply's transmit field is
   * first written again with `transmitTimeAfter` (`NtpResponder.txFromClock` says when
   * nothing covers it), so the time spent between the responder's reading and the send
   * does not bias what the client measures.
   */
  replyToOne(data: Uint8Array, restampAfter?: CookedBatch): boolean {
    if (restampAfter !== undefined && data.length === NTP_HEADER_LENGTH) {
      writeNtpTimestamp(this.#txView, 0, this.transmitTimeAfter(restampAfter));
      this.#txStamp[7] &= 0xfe; // chrony's interleaved-mode flag: a transmit time ends in 0
      data.set(this.#txStamp, REPLY_TX_AT);
    }
    return this.#socket.sendToDestination(data);
  }

  /**
   * The transmit time to write into replies about to be sent (`cookedNowAfter(batch)`).
   * When no reply was restamped in the COLD_SEND_NS before `batch` was read, the send path
   * is probed first (to the first reply staged in `replies`, else to the `receiveOne`
   * sender), so the sendto that follows the reading finds it warm.
   */
  transmitTimeAfter(batch: CookedBatch, replies?: ReplyBatch): Instant {
    if (batch.clocks.realtime - this.#lastRestamp > COLD_SEND_NS) {
      if (replies === undefined) this.#socket.probeDestination(REPLY_PROBE);
      else this.#socket.probeReplies(replies);
    }
    this.#lastRestamp = batch.clocks.realtime;
    return this.cookedNowAfter(batch);
  }

  /** True when a datagram waits to be read (a shared socket's check before waiting). */
  hasWaiting(): boolean {
    return nextDatagramLength(this.#socket.fd) > 0;
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
    if (!this.#rxStamps && setRxTimestamps(this.#socket.fd, true)) this.#rxStamps = true;
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
    this.#txFrames = this.#socket.enableTxFrames();
    return this.#txFrames;
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

  /** Closes the socket and wakes a pending `waitReadable` (or `receiveOne`). */
  close(): void {
    this.#socket.close();
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
  }
}
