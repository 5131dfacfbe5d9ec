/**
 * The NTP server edge: binds UDP sockets (port 123 by default), reads the cooked clock the
 * moment a datagram is handed over, asks the pure responder (src/core/server.ts) for a reply
 * and sends it. One reused receive buffer and one responder (with its reused reply buffer)
 * per socket, so the steady state allocates nothing per packet beyond Deno's own op costs.
 * Nothing read from the network can throw out of the loop.
 *
 * Needs `--unstable-net` (deno.json sets it) and net permission.
 *
 * @module
 */
import type { LogPort } from "../core/ports.ts";
import { NtpResponder, type ResponderStats, type ServerPolicy } from "../core/server.ts";
import type { Instant } from "../core/time.ts";
import type { ReferenceState } from "../core/types.ts";

/** Largest datagram read; longer ones are truncated by the kernel (and then rejected). */
export const MAX_REQUEST_LENGTH = 4096;

/** Where to listen. */
export interface NtpServerOptions {
  /** Addresses to bind (empty: "::" dual-stack, falling back to "0.0.0.0"). */
  hosts: string[];
  /** UDP port (123 normally; 0 lets the OS pick, for tests). */
  port: number;
}

/** What the server needs from the daemon. */
export interface NtpServerDeps {
  /** The cooked clock (raw time plus the correction being slewed), read at once on receive. */
  readCookedTime: () => Instant;
  /** The current reference state (called once per request). */
  reference: () => ReferenceState;
  /** Access table and client log shared by all sockets. */
  policy: ServerPolicy;
  /** Log port (errors only; nothing is logged per packet). */
  log: LogPort;
}

/** A running server. */
export interface NtpServerHandle {
  /** The bound addresses (with the real port when 0 was asked). */
  readonly addresses: { hostname: string; port: number }[];
  /** Responder counters summed over all sockets, plus I/O errors. */
  stats(): ResponderStats & { sendErrors: number; receiveErrors: number };
  /** Closes every socket and waits for the loops to end. */
  close(): Promise<void>;
}

interface SocketLoop {
  conn: Deno.DatagramConn;
  responder: NtpResponder;
  done: Promise<void>;
  closed: boolean;
}

/** "::ffff:1.2.3.4" -> "1.2.3.4" (dual-stack sockets report IPv4 clients that way). */
function plainAddress(hostname: string): string {
  if (hostname.length > 7 && hostname.charCodeAt(0) === 58 && hostname.startsWith("::ffff:")) {
    const rest = hostname.slice(7);
    if (rest.includes(".")) return rest;
  }
  return hostname;
}

function bind(hostname: string, port: number): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname, port });
}

/**
 * Starts serving NTP on every host of `options.hosts`. Throws only if a socket cannot be
 * bound (the caller reports it); after that, bad input and send failures are counted, not
 * thrown.
 */
export function startNtpServer(
  options: NtpServerOptions,
  deps: NtpServerDeps,
): Promise<NtpServerHandle> {
  const conns: Deno.DatagramConn[] = [];
  try {
    if (options.hosts.length === 0) {
      try {
        conns.push(bind("::", options.port));
      } catch {
        conns.push(bind("0.0.0.0", options.port));
      }
    } else {
      for (const host of options.hosts) conns.push(bind(host, options.port));
    }
  } catch (e) {
    for (const c of conns) c.close();
    return Promise.reject(e);
  }

  const io = { sendErrors: 0, receiveErrors: 0 };
  const loops: SocketLoop[] = conns.map((conn) => {
    const loop: SocketLoop = {
      conn,
      responder: new NtpResponder(deps.policy),
      done: Promise.resolve(),
      closed: false,
    };
    loop.done = runLoop(loop, deps, io);
    return loop;
  });

  const addresses = conns.map((c) => {
    const a = c.addr as Deno.NetAddr;
    return { hostname: a.hostname, port: a.port };
  });
  for (const a of addresses) {
    deps.log.log("info", `NTP server listening on ${a.hostname} port ${a.port}`);
  }

  return Promise.resolve({
    addresses,
    stats() {
      const sum: ResponderStats & { sendErrors: number; receiveErrors: number } = {
        received: 0,
        malformed: 0,
        ignoredMode: 0,
        denied: 0,
        rateDropped: 0,
        kod: 0,
        replied: 0,
        ...io,
      };
      for (const l of loops) {
        const s = l.responder.stats;
        sum.received += s.received;
        sum.malformed += s.malformed;
        sum.ignoredMode += s.ignoredMode;
        sum.denied += s.denied;
        sum.rateDropped += s.rateDropped;
        sum.kod += s.kod;
        sum.replied += s.replied;
      }
      return sum;
    },
    async close() {
      for (const l of loops) {
        if (l.closed) continue;
        l.closed = true;
        try {
          l.conn.close();
        } catch {
          // already closed
        }
      }
      await Promise.all(loops.map((l) => l.done));
    },
  });
}

/** Receives, answers, sends, until the socket is closed. */
async function runLoop(
  loop: SocketLoop,
  deps: NtpServerDeps,
  io: { sendErrors: number; receiveErrors: number },
): Promise<void> {
  const buffer = new Uint8Array(MAX_REQUEST_LENGTH);
  const from = { address: "", port: 0 };
  const readTime = deps.readCookedTime;
  while (!loop.closed) {
    let data: Uint8Array;
    let addr: Deno.NetAddr;
    let rxTime: Instant;
    try {
      const [d, a] = await loop.conn.receive(buffer);
      rxTime = readTime();
      data = d;
      addr = a as Deno.NetAddr;
    } catch (e) {
      if (loop.closed || e instanceof Deno.errors.BadResource) return;
      io.receiveErrors++;
      if (io.receiveErrors === 1 || io.receiveErrors % 1000 === 0) {
        deps.log.log("warning", `NTP server receive error: ${String(e)}`, {
          count: io.receiveErrors,
        });
      }
      // Yield so a persistent error cannot spin the event loop.
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    let reply: Uint8Array | null = null;
    try {
      from.address = plainAddress(addr.hostname);
      from.port = addr.port;
      reply = loop.responder.respond(data, from, rxTime, deps.reference(), readTime);
    } catch (e) {
      // The responder never throws on input; this guards the loop against bugs.
      deps.log.log("error", `NTP responder failed: ${String(e)}`);
      reply = null;
    }
    if (reply === null) continue;
    try {
      await loop.conn.send(reply, addr);
    } catch (e) {
      if (loop.closed) return;
      io.sendErrors++;
      if (io.sendErrors === 1 || io.sendErrors % 1000 === 0) {
        deps.log.log("warning", `NTP server send error: ${String(e)}`, { count: io.sendErrors });
      }
    }
  }
}
