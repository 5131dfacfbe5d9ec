/**
 * A UDP socket through libc (Deno FFI) with kernel receive timestamps (SO_TIMESTAMPNS),
 * for the NTP server, the kernel-timestamping client transports and the VM's reference
 * server: Deno.listenDatagram gives no kernel timestamps, and on a busy machine the
 * user-space receive time can be hundreds of microseconds late, which biases every
 * client's offset by half of that. Here the kernel's software timestamp of the
 * arrival comes with each datagram, and replies are sent with a synchronous sendto right
 * after the transmit time is read.
 *
 * Waiting is an `await`ed poll() on the blocking thread pool (a nonblocking FFI call) over
 * the socket and an eventfd that `close()` signals; receiving and sending are synchronous
 * calls with MSG_DONTWAIT. A socket Deno opened can be adopted (`adopt`; its owner waits
 * and closes it: ffi/shared_udp_fd.ts). Linux x86-64/aarch64 layouts (LP64). Needs --allow-ffi.
 *
 * @module
 */
import type { ReplyBatch, SendOutcome } from "./udp_send_batch.ts";
import { describeErrno, errnoName } from "./errno.ts";
import type { DatagramBatch } from "./udp_batch.ts";
import { lastErrno, libcAvailable, libcSymbols } from "./libc.ts";
import type { Instant } from "../src/base/time.ts";
import { findRxTimestamp, findTxTimestamp } from "./cmsg_timestamps.ts";
import { ipBytes, readSockaddr, writeDestination, writeSockaddr } from "./sockaddr.ts";
import { AF_INET, AF_INET6, MSG_PROBE } from "./socket_options.ts";

const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_TIMESTAMPNS = 35;
const MSG_DONTWAIT = 0x40;
const MSG_ERRQUEUE = 0x2000;
const SO_TIMESTAMPING = 37;
/** SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY. */
const TX_SOFTWARE_FLAGS = (1 << 1) | (1 << 4) | (1 << 11);
/** The same without OPT_TSONLY: the error queue returns each datagram as sent, with headers. */
const TX_SOFTWARE_FRAME_FLAGS = (1 << 1) | (1 << 4);
const POLLIN = 1;
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const EAGAIN = 11;
const EINTR = 4;
const CLOCK_REALTIME = 0;
const CONTROL_LENGTH = 256n;

function pointerOf(b: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

/** True when the FFI socket can be used here (Linux with glibc, FFI permitted). */
export function kernelTimestampSocketsAvailable(): boolean {
  if (Deno.build.os !== "linux") return false;
  if (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") return false;
  return libcAvailable();
}

/** One received datagram; `data` is a view into the socket's buffer (valid until next). */
export interface KernelDatagram {
  /** The datagram bytes. */
  data: Uint8Array;
  /** Sender address (IPv4-mapped addresses on dual-stack sockets are reported as IPv4). */
  address: string;
  /** Sender port. */
  port: number;
  /** Kernel receive timestamp on CLOCK_REALTIME, or null if none came with it. */
  kernelRxRaw: Instant | null;
}

/**
 * A non-blocking UDP socket bound through libc, with kernel receive timestamps. Not
 * thread-safe; one receive at a time.
 */
export class KernelTimestampSocket {
  readonly #fd: number;
  readonly #wakeFd: number;
  readonly #family: number;
  readonly #buffer: Uint8Array;
  readonly #name = new Uint8Array(28);
  readonly #control = new Uint8Array(Number(CONTROL_LENGTH));
  readonly #iov = new Uint8Array(16);
  readonly #msg = new Uint8Array(56);
  readonly #msgView = new DataView(this.#msg.buffer);
  readonly #pollFds = new Uint8Array(16);
  readonly #sendName = new Uint8Array(28);
  readonly #sendView = new DataView(this.#sendName.buffer);
  #destinationLength = 0;
  readonly #ts = new Uint8Array(16);
  readonly #tsView = new DataView(this.#ts.buffer);
  #closed = false;
  #txTimestamps = false;
  #txFrames = false;
  #polling = false;
  #wakeClosed = false;
  /** False for a descriptor another owner (Deno) closes. */
  readonly #owned: boolean;
  /** Bound address and port. */
  readonly local: { hostname: string; port: number };

  private constructor(
    fd: number,
    wakeFd: number,
    family: number,
    maxLength: number,
    owned = true,
  ) {
    this.#fd = fd;
    this.#owned = owned;
    this.#wakeFd = wakeFd;
    this.#family = family;
    this.#buffer = new Uint8Array(maxLength);
    const iov = new DataView(this.#iov.buffer);
    iov.setBigUint64(
      0,
      BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#buffer))),
      true,
    );
    iov.setBigUint64(8, BigInt(maxLength), true);
    const pf = new DataView(this.#pollFds.buffer);
    pf.setInt32(0, fd, true);
    pf.setInt16(4, POLLIN, true);
    pf.setInt32(8, wakeFd, true);
    pf.setInt16(12, POLLIN, true);
    // The msghdr points at buffers owned by this object (backing stores never move).
    const m = this.#msgView;
    m.setBigUint64(0, pointerOf(this.#name), true);
    m.setBigUint64(16, pointerOf(this.#iov), true);
    m.setBigUint64(24, 1n, true);
    m.setBigUint64(32, pointerOf(this.#control), true);
    this.local = this.#localAddress();
  }

  /**
   * Opens a socket bound to `host`:`port` with SO_TIMESTAMPNS. `configure` may set more
   * options on the descriptor before bind (device, DSCP). Throws on failure.
   */
  static open(
    host: string,
    port: number,
    maxLength = 4096,
    configure?: (fd: number, family: number) => void,
  ): KernelTimestampSocket {
    const addr = ipBytes(host);
    if (addr === null) throw new Error(`not an IP address: ${host}`);
    const family = addr.length === 4 ? AF_INET : AF_INET6;
    const c = libcSymbols();
    const fd = c.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`socket() failed: ${describeErrno(lastErrno())}`);
    try {
      const one = new Uint8Array(new Int32Array([1]).buffer);
      if (c.setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, one, 4) < 0) {
        throw new Error(`setsockopt(SO_TIMESTAMPNS) failed: ${describeErrno(lastErrno())}`);
      }
      configure?.(fd, family);
      const sa = new Uint8Array(28);
      const len = writeSockaddr(new DataView(sa.buffer), family, addr, port);
      if (c.bind(fd, sa, len) < 0) {
        const e = lastErrno();
        throw new Deno.errors.AddrInUse(`bind ${host} port ${port} failed: ${describeErrno(e)}`);
      }
      const wakeFd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (wakeFd < 0) throw new Error(`eventfd() failed: ${describeErrno(lastErrno())}`);
      return new KernelTimestampSocket(fd, wakeFd, family, maxLength);
    } catch (e) {
      c.close(fd);
      throw e;
    }
  }

  /**
   * Wraps bound UDP socket `fd` that another owner opened and will close (a Deno socket:
   * ffi/shared_udp_fd.ts), with SO_TIMESTAMPNS as `timestamps` says. `close()` then ends
   * this object's use of it and wakes a pending wait, but leaves the descriptor open.
   * Throws on failure.
   */
  static adopt(
    fd: number,
    family: number,
    maxLength = 4096,
    timestamps = true,
  ): KernelTimestampSocket {
    const c = libcSymbols();
    const one = new Uint8Array(new Int32Array([timestamps ? 1 : 0]).buffer);
    if (c.setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, one, 4) < 0) {
      throw new Error(`setsockopt(SO_TIMESTAMPNS) failed: ${describeErrno(lastErrno())}`);
    }
    const wakeFd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd < 0) throw new Error(`eventfd() failed: ${describeErrno(lastErrno())}`);
    return new KernelTimestampSocket(fd, wakeFd, family, maxLength, false);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The socket's descriptor (for the calls of ffi/shared_udp_fd.ts). */
  get fd(): number {
    return this.#fd;
  }

  #localAddress(): { hostname: string; port: number } {
    const sa = new Uint8Array(28);
    const len = new Uint8Array(new Uint32Array([28]).buffer);
    libcSymbols().getsockname(this.#fd, sa, len);
    return readSockaddr(new DataView(sa.buffer), sa);
  }

  /** Waits until a datagram may be read; false when the socket was closed. */
  async waitReadable(): Promise<boolean> {
    while (!this.#closed) {
      this.#polling = true;
      const r = await libcSymbols().poll_async(this.#pollFds, 2n, -1);
      this.#polling = false;
      if (this.#closed) break;
      if (r > 0) {
        const revents = new DataView(this.#pollFds.buffer).getInt16(6, true);
        if (revents !== 0) return true;
      }
    }
    this.#closeWake();
    return false;
  }

  #closeWake(): void {
    if (this.#wakeClosed) return;
    this.#wakeClosed = true;
    libcSymbols().close(this.#wakeFd);
  }

  /**
   * Reads one datagram without blocking: null when none is waiting. The returned view is
   * only valid until the next call.
   */
  receive(): KernelDatagram | null {
    if (this.#closed) return null;
    const m = this.#msgView;
    m.setUint32(8, 28, true); // msg_namelen and msg_controllen are written back by the kernel
    m.setBigUint64(40, CONTROL_LENGTH, true);
    m.setInt32(48, 0, true);
    for (;;) {
      const n = Number(libcSymbols().recvmsg(this.#fd, this.#msg, MSG_DONTWAIT));
      if (n >= 0) {
        const from = readSockaddr(new DataView(this.#name.buffer), this.#name);
        return {
          data: this.#buffer.subarray(0, Math.min(n, this.#buffer.length)),
          address: from.hostname,
          port: from.port,
          kernelRxRaw: findRxTimestamp(this.#control, Number(m.getBigUint64(40, true))),
        };
      }
      const e = lastErrno();
      if (e === EINTR) continue;
      if (e === EAGAIN) {
        // A late transmit timestamp would keep poll() reporting POLLERR: drain it.
        if (this.#txTimestamps) this.readTxTimestamp();
        return null;
      }
      throw new Error(`recvmsg failed: ${describeErrno(e)}`);
    }
  }

  /**
   * Asks the kernel for software transmit timestamps (SO_TIMESTAMPING), read back with
   * {@link readTxTimestamp} after each send. Returns false when the kernel refuses.
   */
  enableTxTimestamps(): boolean {
    const flags = new Uint8Array(new Int32Array([TX_SOFTWARE_FLAGS]).buffer);
    this.#txTimestamps =
      libcSymbols().setsockopt(this.#fd, SOL_SOCKET, SO_TIMESTAMPING, flags, 4) === 0;
    return this.#txTimestamps;
  }

  /**
   * Asks the kernel for software transmit timestamps that come back with the datagram as
   * sent (link-layer frame), read with {@link readTxFrame}: for a server, which matches a
   * late timestamp to its reply by the reply's contents (as chrony does). The caller drains
   * the error queue itself. Returns false when the kernel refuses.
   */
  enableTxFrames(): boolean {
    const flags = new Uint8Array(new Int32Array([TX_SOFTWARE_FRAME_FLAGS]).buffer);
    this.#txFrames =
      libcSymbols().setsockopt(this.#fd, SOL_SOCKET, SO_TIMESTAMPING, flags, 4) === 0;
    return this.#txFrames;
  }

  /**
   * Reads one message of the error queue (sockets with {@link enableTxFrames}): the frame as
   * sent (a view into the socket's buffer, valid until the next read) and its software
   * transmit timestamp (CLOCK_REALTIME; null when it carries none); null when the queue is
   * empty.
   */
  readTxFrame(): { frame: Uint8Array; tx: Instant | null } | null {
    if (this.#closed || !this.#txFrames) return null;
    const m = this.#msgView;
    for (;;) {
      m.setUint32(8, 28, true);
      m.setBigUint64(40, CONTROL_LENGTH, true);
      m.setInt32(48, 0, true);
      const n = Number(libcSymbols().recvmsg(this.#fd, this.#msg, MSG_ERRQUEUE | MSG_DONTWAIT));
      if (n < 0) {
        if (lastErrno() === EINTR) continue;
        return null;
      }
      return {
        frame: this.#buffer.subarray(0, Math.min(n, this.#buffer.length)),
        tx: findTxTimestamp(this.#control, Number(m.getBigUint64(40, true))),
      };
    }
  }

  /**
   * The kernel's transmit timestamp (CLOCK_REALTIME) of the datagram just sent, from the
   * socket's error queue; null when none is there (yet). Drains the error queue.
   */
  readTxTimestamp(): Instant | null {
    if (this.#closed) return null;
    const m = this.#msgView;
    let found: Instant | null = null;
    // The newest is wanted: a server with timestamps on may have a few queued behind it.
    for (let i = 0; i < 64; i++) {
      m.setUint32(8, 28, true);
      m.setBigUint64(40, CONTROL_LENGTH, true);
      m.setInt32(48, 0, true);
      const n = Number(libcSymbols().recvmsg(this.#fd, this.#msg, MSG_ERRQUEUE | MSG_DONTWAIT));
      if (n < 0) {
        if (lastErrno() === EINTR) continue;
        break;
      }
      found = findTxTimestamp(this.#control, Number(m.getBigUint64(40, true))) ?? found;
    }
    return found;
  }

  /** Sends `data` to `address`:`port` at once; returns false if the kernel refused it. */
  send(data: Uint8Array, address: string, port: number): boolean {
    return this.trySend(data, address, port) === null;
  }

  /**
   * Sends `data` to `address`:`port` at once; returns null when the whole datagram went out,
   * else why not ("sendto: ENETUNREACH", "not an IP address", "socket closed").
   */
  trySend(data: Uint8Array, address: string, port: number): string | null {
    if (this.#closed) return "socket closed";
    let bytes = ipBytes(address);
    if (bytes === null) return "not an IP address";
    if (bytes.length === 4 && this.#family === AF_INET6) {
      const mapped = new Uint8Array(16);
      mapped[10] = mapped[11] = 0xff;
      mapped.set(bytes, 12);
      bytes = mapped;
    }
    const len = writeSockaddr(this.#sendView, this.#family, bytes, port);
    const n = Number(
      libcSymbols().sendto(this.#fd, data, BigInt(data.length), 0, this.#sendName, len),
    );
    return n === data.length ? null : `sendto: ${errnoName(lastErrno())}`;
  }

  /**
   * Sets where `sendToDestination` sends: `address` (text, as `trySend` takes it; IPv4
   * dotted quads parsed without allocating) and `port`. False when it is not an address.
   */
  setDestination(address: string, port: number): boolean {
    this.#destinationLength = writeDestination(this.#sendView, this.#family, address, port);
    return this.#destinationLength !== 0;
  }

  /**
   * Walks the kernel's send path towards the address `setDestination` set without sending
   * anything (sendto with MSG_PROBE: socket and route lookup, no datagram). A server that
   * was idle calls it just before it reads the clock for a reply's transmit time, so the
   * reply's own sendto, which follows that reading, finds the path warm (measured in a VM
   * after 2 s idle: 8-26 µs from the reading to the wire against 18-337 µs).
   */
  probeDestination(data: Uint8Array): void {
    const len = this.#destinationLength;
    if (this.#closed || len === 0) return;
    libcSymbols().sendto(this.#fd, data, BigInt(data.length), MSG_PROBE, this.#sendName, len);
  }

  /** Sends `data` to the address `setDestination` set; false if refused or none is set. */
  sendToDestination(data: Uint8Array): boolean {
    const len = this.#destinationLength;
    if (this.#closed || len === 0) return false;
    const n = Number(
      libcSymbols().sendto(this.#fd, data, BigInt(data.length), 0, this.#sendName, len),
    );
    return n === data.length;
  }

  /**
   * Sends `data` back to the sender of the last datagram `receive` returned (no address
   * parsing); returns false if the kernel refused it.
   */
  replyToLast(data: Uint8Array): boolean {
    if (this.#closed) return false;
    const len = this.#msgView.getUint32(8, true);
    const n = Number(libcSymbols().sendto(this.#fd, data, BigInt(data.length), 0, this.#name, len));
    return n === data.length;
  }

  /**
   * Reads up to `batch.capacity` waiting datagrams at once (recvmmsg) into `batch`: how
   * many, 0 when none waits or the socket is closed.
   */
  receiveBatch(batch: DatagramBatch): number {
    if (this.#closed) return 0;
    const n = batch.receiveFrom(this.#fd);
    // A late transmit timestamp would keep poll() reporting POLLERR: drain it.
    if (n === 0 && this.#txTimestamps) this.readTxTimestamp();
    return n;
  }

  /** Sends `data` to the sender of datagram `i` of `batch` at once; false if refused. */
  replyInBatch(batch: DatagramBatch, i: number, data: Uint8Array): boolean {
    return !this.#closed && batch.replyTo(this.#fd, i, data);
  }

  /**
   * Sends the replies staged in `replies` (one sendmmsg) and empties it; every staged
   * reply counts as failed when the socket is closed.
   */
  sendReplies(replies: ReplyBatch): SendOutcome {
    if (this.#closed) {
      const failed = replies.count;
      replies.clear();
      return { sent: 0, failed };
    }
    return replies.sendTo(this.#fd);
  }

  /** Probes the send path of the first reply staged in `replies` (`ReplyBatch.probeFirst`). */
  probeReplies(replies: ReplyBatch): void {
    if (!this.#closed) replies.probeFirst(this.#fd);
  }

  /** CLOCK_REALTIME now (to age a kernel timestamp). */
  realtimeNow(): Instant {
    libcSymbols().clock_gettime(CLOCK_REALTIME, this.#ts);
    return this.#tsView.getBigInt64(0, true) * 1_000_000_000n + this.#tsView.getBigInt64(8, true);
  }

  /** Closes the socket and wakes a pending `waitReadable`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const one = new Uint8Array(new BigUint64Array([1n]).buffer);
    libcSymbols().write(this.#wakeFd, one, 8n);
    if (this.#owned) libcSymbols().close(this.#fd);
    // A pending poll closes the eventfd once it has woken; otherwise close it now.
    if (!this.#polling) this.#closeWake();
  }
}
