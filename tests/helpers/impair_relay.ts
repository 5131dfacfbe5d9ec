/**
 * A small UDP relay for real-time tests: it sits between NTP clients and one NTP server on
 * loopback and impairs the traffic per direction (base delay, exponential jitter, loss,
 * asymmetry by giving the two directions different settings) and by time windows (outages
 * that drop everything, congestion periods that add a random extra delay). Randomness is
 * seeded, so a scenario's impairment sequence is reproducible. Each client address gets its
 * own upstream socket so the server's replies route back to the right client. Queues are
 * bounded (packets beyond `maxQueue` in flight per direction are dropped) and `close()` stops
 * everything: sockets closed, pending timers cleared.
 *
 * Delays are scheduled with `setTimeout` for the whole milliseconds and a short busy-wait for
 * the sub-millisecond remainder, so a 100 µs delay is about 100 µs and not a timer tick.
 *
 * @module
 */
import { seededRandom } from "./random.ts";

/** How one direction of the relay impairs its packets. */
export interface DirectionImpairment {
  /** Fixed one-way delay added to every packet, milliseconds (default 0). */
  baseDelayMs?: number;
  /** Mean of the exponential jitter added to every packet, milliseconds (default 0). */
  jitterMs?: number;
  /** Probability that a packet is dropped, 0..1 (default 0). */
  loss?: number;
}

/** A period, relative to the relay's start, during which the path is impaired further. */
export interface ImpairWindow {
  /** Start, seconds after the relay started. */
  startS: number;
  /** End (exclusive), seconds after the relay started. */
  endS: number;
  /** "outage": every packet is dropped; "congestion": an extra delay is added. */
  kind: "outage" | "congestion";
  /** For congestion: the extra delay is uniform in [min, max] milliseconds. */
  extraDelayMs?: [number, number];
  /** Which direction the window applies to (default both). */
  direction?: "up" | "down" | "both";
}

/** Configuration of an impairing relay. */
export interface ImpairRelayOptions {
  /** The server's address (an IPv4 loopback address). */
  upstreamHost: string;
  /** The server's UDP port. */
  upstreamPort: number;
  /** Address the relay listens on for clients (default 127.0.0.1). */
  listenHost?: string;
  /** Port the relay listens on (default 0: the OS picks). */
  listenPort?: number;
  /** Client-to-server impairment. */
  up?: DirectionImpairment;
  /** Server-to-client impairment. */
  down?: DirectionImpairment;
  /** Time windows (outages, congestion). */
  windows?: ImpairWindow[];
  /** PRNG seed (default 1). */
  seed?: number;
  /** Packets in flight per direction beyond which new ones are dropped (default 256). */
  maxQueue?: number;
  /** Most client links (upstream sockets) kept at once; the oldest is closed (default 64). */
  maxClients?: number;
  /** A link unused this long is closed, seconds (default 20). */
  idleSeconds?: number;
}

/** Packet counters of a relay. */
export interface ImpairRelayStats {
  /** Packets received from clients. */
  upReceived: number;
  /** Packets forwarded to the server. */
  upSent: number;
  /** Packets received from the server. */
  downReceived: number;
  /** Packets forwarded to clients. */
  downSent: number;
  /** Packets dropped by random loss. */
  lost: number;
  /** Packets dropped by an outage window. */
  outageDropped: number;
  /** Packets dropped because a queue was full. */
  overflowDropped: number;
  /** Links closed early to make room for a new client. */
  evicted: number;
}

/** A running relay. */
export interface ImpairRelay {
  /** Address clients send to. */
  host: string;
  /** Port clients send to. */
  port: number;
  /** Packet counters so far. */
  stats: ImpairRelayStats;
  /** Stops the relay: closes every socket and cancels pending deliveries. */
  close(): Promise<void>;
}

/** Seeded uniform [0, 1) generator (mulberry32, tests/helpers/random.ts). */
export { seededRandom };

interface ClientLink {
  socket: Deno.DatagramConn;
  /** The client this upstream socket serves; null for the spare. */
  client: Deno.NetAddr | null;
  key: string;
  lastUsed: number;
  loop: Promise<void>;
}

/**
 * Starts a relay listening on `listenHost:listenPort` that forwards every client datagram to
 * `upstreamHost:upstreamPort`, and replies back, impaired as configured.
 */
export function startImpairRelay(options: ImpairRelayOptions): ImpairRelay {
  const listenHost = options.listenHost ?? "127.0.0.1";
  const maxQueue = options.maxQueue ?? 256;
  const maxClients = options.maxClients ?? 64;
  const windows = options.windows ?? [];
  const random = seededRandom(options.seed ?? 1);
  const started = performance.now();
  const listener = Deno.listenDatagram({
    transport: "udp",
    hostname: listenHost,
    port: options.listenPort ?? 0,
  });
  const port = (listener.addr as Deno.NetAddr).port;
  const stats: ImpairRelayStats = {
    upReceived: 0,
    upSent: 0,
    downReceived: 0,
    downSent: 0,
    lost: 0,
    outageDropped: 0,
    overflowDropped: 0,
    evicted: 0,
  };
  const links = new Map<string, ClientLink>();
  /** Receive loops still running (each ends when its socket is closed). */
  const loops = new Set<Promise<void>>();
  const idleMs = (options.idleSeconds ?? 20) * 1000;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const inFlight = { up: 0, down: 0 };
  let closed = false;

  const exp = () => -Math.log(1 - random());

  /** The delay for one packet in ms, or null when it is dropped. */
  const impair = (dir: "up" | "down"): number | null => {
    const conf = (dir === "up" ? options.up : options.down) ?? {};
    // Draw every random number for every packet so one impairment does not shift another's
    // sequence when a setting changes.
    const lossDraw = random();
    const jitterDraw = exp();
    const extraDraw = random();
    const t = (performance.now() - started) / 1000;
    let extra = 0;
    for (const w of windows) {
      if (t < w.startS || t >= w.endS) continue;
      if (w.direction !== undefined && w.direction !== "both" && w.direction !== dir) continue;
      if (w.kind === "outage") {
        stats.outageDropped++;
        return null;
      }
      const [lo, hi] = w.extraDelayMs ?? [0, 0];
      extra += lo + (hi - lo) * extraDraw;
    }
    if (lossDraw < (conf.loss ?? 0)) {
      stats.lost++;
      return null;
    }
    return (conf.baseDelayMs ?? 0) + (conf.jitterMs ?? 0) * jitterDraw + extra;
  };

  /** Sends `data` after `delayMs` (whole ms by timer, the remainder by busy-waiting). */
  const deliver = (dir: "up" | "down", delayMs: number, send: () => Promise<unknown>) => {
    if (inFlight[dir] >= maxQueue) {
      stats.overflowDropped++;
      return;
    }
    inFlight[dir]++;
    const due = performance.now() + delayMs;
    const fire = () => {
      inFlight[dir]--;
      if (closed) return;
      // The timer was set about 1 ms short of the due time; spin the rest (bounded at 2 ms).
      while (performance.now() < due && due - performance.now() < 2) {
        // busy-wait for the sub-millisecond remainder
      }
      send().then(() => {
        if (dir === "up") stats.upSent++;
        else stats.downSent++;
      }).catch(() => {});
    };
    const wholeMs = Math.floor(delayMs) - 1;
    if (wholeMs <= 0) {
      fire();
      return;
    }
    const id = setTimeout(() => {
      timers.delete(id);
      fire();
    }, wholeMs);
    timers.add(id);
  };

  const downLoop = async (link: ClientLink) => {
    try {
      for await (const [data] of link.socket) {
        if (closed) break;
        if (link.client === null) continue; // a spare socket: nobody sent through it yet
        const client = link.client;
        link.lastUsed = performance.now();
        stats.downReceived++;
        const delay = impair("down");
        if (delay === null) continue;
        const copy = data.slice();
        deliver("down", delay, () => listener.send(copy, client));
      }
    } catch {
      // socket closed
    }
  };

  const openLink = (): ClientLink => {
    const socket = Deno.listenDatagram({ transport: "udp", hostname: listenHost, port: 0 });
    const link: ClientLink = {
      socket,
      client: null,
      key: "",
      lastUsed: performance.now(),
      loop: Promise.resolve(),
    };
    link.loop = downLoop(link);
    const loop = link.loop;
    loops.add(loop);
    void loop.finally(() => loops.delete(loop));
    return link;
  };
  const closeLink = (link: ClientLink) => {
    links.delete(link.key);
    try {
      link.socket.close();
    } catch {
      // already closed
    }
  };
  // chronyd and tempus send each request from a fresh source port, so links come and go: a
  // spare upstream socket is opened ahead of need (opening one costs a millisecond or so,
  // which would otherwise delay only the client-to-server direction), and idle links are
  // closed.
  let spare: ClientLink | null = openLink();
  let refillPending = false;
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const link of [...links.values()]) {
      if (now - link.lastUsed > idleMs) closeLink(link);
    }
  }, Math.max(1000, idleMs / 2));

  const linkFor = (client: Deno.NetAddr): ClientLink => {
    const key = `${client.hostname}:${client.port}`;
    const known = links.get(key);
    if (known) return known;
    if (links.size >= maxClients) {
      // Bounded: the least recently used link makes room.
      let oldest: ClientLink | null = null;
      for (const l of links.values()) {
        if (oldest === null || l.lastUsed < oldest.lastUsed) oldest = l;
      }
      if (oldest !== null) closeLink(oldest);
      stats.evicted++;
    }
    const link = spare ?? openLink();
    spare = null;
    link.client = client;
    link.key = key;
    links.set(key, link);
    return link;
  };

  const upLoop = (async () => {
    try {
      for await (const [data, addr] of listener) {
        if (closed) break;
        stats.upReceived++;
        const link = linkFor(addr as Deno.NetAddr);
        link.lastUsed = performance.now();
        const delay = impair("up");
        if (delay === null) continue;
        const copy = data.slice();
        deliver("up", delay, () =>
          link.socket.send(copy, {
            transport: "udp",
            hostname: options.upstreamHost,
            port: options.upstreamPort,
          }));
        // Refill the spare later, not in this turn: the send above runs only when this turn
        // of the event loop ends, and opening a socket takes a while.
        if (spare === null && !refillPending) {
          refillPending = true;
          const id = setTimeout(() => {
            timers.delete(id);
            refillPending = false;
            if (!closed && spare === null) spare = openLink();
          }, 20);
          timers.add(id);
        }
      }
    } catch {
      // listener closed
    }
  })();

  return {
    host: listenHost,
    port,
    stats,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweep);
      for (const id of timers) clearTimeout(id);
      timers.clear();
      const closeQuietly = (s: Deno.DatagramConn) => {
        try {
          s.close();
        } catch {
          // already closed
        }
      };
      closeQuietly(listener);
      for (const link of [...links.values()]) closeLink(link);
      if (spare !== null) {
        closeQuietly(spare.socket);
        spare = null;
      }
      await Promise.all([upLoop, ...loops]);
    },
  };
}
