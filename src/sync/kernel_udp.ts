/**
 * A client exchange over a libc UDP socket with kernel receive timestamps (SO_TIMESTAMPNS;
 * the socket is `KernelTimestampSocket` from ffi/udp_socket.ts), for the one-shot
 * commands. Deno's datagram API gives no kernel timestamps, so a receive time read in
 * JavaScript includes the event-loop latency, which is milliseconds on a busy machine. Here
 * the request is sent by a synchronous sendto(2) right after the transmit clock read, and
 * each reply's receive time is the kernel's, carried over to the caller's clock by
 * subtracting the packet's age.
 *
 * Same contract as `exchange` in src/io/udp.ts (fresh socket and random source port per
 * request). `kernelExchangeAvailable()` is false when libc or FFI is unavailable; callers
 * then use the Deno socket.
 *
 * @module
 */
import type { SocketAddress } from "../core/ports.ts";
import type { Instant } from "../core/time.ts";
import {
  type ExchangeOptions,
  type ExchangeResult,
  MAX_DATAGRAM,
  type ReceivedDatagram,
} from "../io/udp.ts";
import { KernelTimestampSocket, kernelTimestampSocketsAvailable } from "../../ffi/udp_socket.ts";
import { parseIpv4, parseIpv6, sameIpAddress } from "../ntp/ip.ts";

/** True when exchanges with kernel receive timestamps can be made here. */
export function kernelExchangeAvailable(): boolean {
  return kernelTimestampSocketsAvailable();
}

/**
 * `exchange` over a libc socket with kernel receive timestamps. Throws only when no socket
 * can be created (the caller then falls back to the Deno socket).
 */
export async function kernelExchange(
  to: SocketAddress,
  request: Uint8Array,
  options: ExchangeOptions,
): Promise<ExchangeResult> {
  const wildcard = parseIpv4(to.address) !== null
    ? "0.0.0.0"
    : parseIpv6(to.address) !== null
    ? "::"
    : null;
  if (wildcard === null || !kernelExchangeAvailable()) {
    throw new Error("kernel UDP socket unavailable");
  }
  const socket = KernelTimestampSocket.open(wildcard, 0, MAX_DATAGRAM);
  socket.enableTxTimestamps();
  const replies: ReceivedDatagram[] = [];
  let accepted = false;
  // The deadline closes the socket, which ends the wait below.
  const timer = setTimeout(() => socket.close(), Math.max(0, options.timeoutMs));
  try {
    let sentAt: Instant = options.clock();
    const sendError = socket.trySend(request, to.address, to.port);
    // The kernel's transmit timestamp, moved onto the caller's clock, when there is one.
    const txRaw = sendError === null ? socket.readTxTimestamp() : null;
    if (txRaw !== null) sentAt = options.clock() - (socket.realtimeNow() - txRaw);
    const localPort = socket.local.port;
    const accept = options.accept ?? (() => true);
    while (sendError === null && !accepted && await socket.waitReadable()) {
      for (;;) {
        let datagram;
        try {
          datagram = socket.receive();
        } catch {
          break; // an error such as a queued ICMP report: keep waiting
        }
        if (datagram === null) break; // drained
        const nowCaller = options.clock();
        const nowRaw = socket.realtimeNow();
        if (datagram.port !== to.port || !sameIpAddress(datagram.address, to.address)) continue;
        const kernelRx = datagram.kernelRxRaw;
        // The packet's age by the raw clock moves the caller's clock reading back to arrival.
        const receivedAt = kernelRx === null || kernelRx > nowRaw ||
            nowRaw - kernelRx > 1_000_000_000n
          ? nowCaller
          : nowCaller - (nowRaw - kernelRx);
        const reply = {
          data: datagram.data.slice(),
          from: { address: datagram.address, port: datagram.port },
          receivedAt,
        };
        replies.push(reply);
        if (accept(reply, sentAt)) {
          accepted = true;
          break;
        }
      }
    }
    return { sentAt, localPort, replies, accepted, sendError };
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}
