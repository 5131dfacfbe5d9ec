/**
 * A client exchange over the kernel-timestamp socket adapter (src/io/kernel_socket.ts), for
 * the one-shot commands. Deno's datagram API gives no kernel timestamps, so a receive time
 * read in JavaScript includes the event-loop latency, which is milliseconds on a busy
 * machine. Here the request is sent by a synchronous sendto(2) right after the transmit
 * clock read, and the kernel's transmit and receive timestamps are cooked onto the caller's
 * clock by the adapter's one rule (src/io/kernel_timestamps.ts).
 *
 * Same contract as `exchange` in src/io/udp.ts (fresh socket and random source port per
 * request). `kernelSocketsAvailable()` (src/io/kernel_socket.ts) is false when libc or FFI is
 * unavailable; callers then use the Deno socket.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";
import {
  type ExchangeFn,
  type ExchangeResult,
  MAX_DATAGRAM,
  type ReceivedDatagram,
} from "../io/udp.ts";
import { KernelSocket, kernelSocketsAvailable } from "../io/kernel_socket.ts";
import { singleClockScale } from "../io/kernel_timestamps.ts";
import { parseIpv4, parseIpv6, sameIpAddress } from "../base/ip.ts";

/**
 * `exchange` over a libc socket with kernel receive timestamps. Throws only when no socket
 * can be created (the caller then falls back to the Deno socket).
 */
export const kernelExchange: ExchangeFn = async (to, request, options): Promise<ExchangeResult> => {
  const wildcard = parseIpv4(to.address) !== null
    ? "0.0.0.0"
    : parseIpv6(to.address) !== null
    ? "::"
    : null;
  if (wildcard === null || !kernelSocketsAvailable()) {
    throw new Error("kernel UDP socket unavailable");
  }
  const socket = KernelSocket.open(wildcard, 0, {
    scale: singleClockScale(options.clock),
    maxLength: MAX_DATAGRAM,
    txTimestamps: true,
  });
  const replies: ReceivedDatagram[] = [];
  let accepted = false;
  // The deadline closes the socket, which ends the wait below.
  const timer = setTimeout(() => socket.close(), Math.max(0, options.timeoutMs));
  try {
    const before: Instant = options.clock();
    const sent = socket.sendStamped(request, to.address, to.port);
    // The kernel's transmit time when there is one, else the clock read just before.
    const sentAt = sent.tx ?? before;
    const sendError = sent.error;
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
        if (datagram.port !== to.port || !sameIpAddress(datagram.address, to.address)) continue;
        const reply = {
          data: datagram.data.slice(),
          from: { address: datagram.address, port: datagram.port },
          receivedAt: datagram.rx,
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
};
