/**
 * The NTP server's "daemon" backend: Deno.listenDatagram sockets. The cooked clock is read
 * as soon as a datagram reaches JavaScript (late by the event loop's wake-up latency, tens to
 * hundreds of µs when busy); each reply is sent on its own.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";
import { NtpResponder } from "../core/server.ts";
import { countError, type IoCounters } from "./server_counters.ts";
import { type Datagram, dispatchDatagram, type NtpServerDeps } from "./server_dispatch.ts";
import { bindAll, MAX_REQUEST_LENGTH, type SocketLoop, specificAddress } from "./server_loop.ts";

/**
 * Binds a Deno UDP socket on every host (empty: "::", falling back to "0.0.0.0") and starts
 * its loop. Throws if a socket cannot be bound (the ones bound are closed).
 */
export function openDenoLoops(
  hosts: string[],
  port: number,
  deps: NtpServerDeps,
  io: IoCounters,
  readCookedTime: () => Instant,
): SocketLoop[] {
  const conns = bindAll(hosts, (h) => bindDeno(h, port));
  return conns.map((conn) => {
    const a = conn.addr as Deno.NetAddr;
    const loop: SocketLoop = {
      socket: {
        hostname: a.hostname,
        port: a.port,
        close: () => conn.close(),
        send: (d, address, port) =>
          conn.send(d, { transport: "udp", hostname: address, port }).then(
            () => null,
            (e) => String(e),
          ),
      },
      responder: new NtpResponder(deps.policy),
      readCookedTime,
      done: Promise.resolve(),
      closed: false,
    };
    loop.done = runDenoLoop(loop, conn, deps, io);
    return loop;
  });
}

function bindDeno(hostname: string, port: number): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname, port });
}

/** "::ffff:1.2.3.4" -> "1.2.3.4" (dual-stack sockets report IPv4 clients that way). */
function plainAddress(hostname: string): string {
  if (hostname.length > 7 && hostname.charCodeAt(0) === 58 && hostname.startsWith("::ffff:")) {
    const rest = hostname.slice(7);
    if (rest.includes(".")) return rest;
  }
  return hostname;
}

/** The Deno.listenDatagram loop: receive, read the clock at once, answer, send. */
async function runDenoLoop(
  loop: SocketLoop,
  conn: Deno.DatagramConn,
  deps: NtpServerDeps,
  io: IoCounters,
): Promise<void> {
  const buffer = new Uint8Array(MAX_REQUEST_LENGTH);
  const readTime = loop.readCookedTime;
  const datagram: Datagram = {
    data: buffer,
    from: { address: "", port: 0 },
    rx: 0n,
    localAddress: specificAddress(loop.socket.hostname),
  };
  const reference = () => deps.reference();
  // Sends one datagram; false when the socket was closed meanwhile (the loop ends).
  const send = async (data: Uint8Array, to: Deno.NetAddr): Promise<boolean> => {
    try {
      await conn.send(data, to);
    } catch (e) {
      if (loop.closed) return false;
      countError(io, "sendErrors", e, deps.log);
    }
    return true;
  };
  while (!loop.closed) {
    let addr: Deno.NetAddr;
    try {
      const [d, a] = await conn.receive(buffer);
      datagram.rx = readTime();
      datagram.data = d;
      addr = a as Deno.NetAddr;
    } catch (e) {
      if (loop.closed || e instanceof Deno.errors.BadResource) return;
      countError(io, "receiveErrors", e, deps.log);
      // Yield so a persistent error cannot spin the event loop.
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    datagram.from.address = plainAddress(addr.hostname);
    datagram.from.port = addr.port;
    const out = dispatchDatagram(loop.responder, datagram, deps, reference, readTime);
    if (out === null) continue;
    if (Array.isArray(out)) {
      // The fragments of a mode 6 answer.
      for (const f of out) if (!await send(f, addr)) return;
      continue;
    }
    deps.policy.clientLog?.countTimestamps("daemon");
    if (!await send(out, addr)) return;
  }
}
