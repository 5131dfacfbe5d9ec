/**
 * The client's `NtpTransport` in the simulator: each request enters the path to its server,
 * is answered by the simulated server on arrival, and the reply travels back through the
 * same path's down direction to be handed to `deliver` (the scenario passes it to
 * `engine.receiveReply` with the client's cooked time at arrival).
 *
 * @module
 */
import type { NtpTransport, SocketAddress } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";
import type { SimPath } from "./network.ts";
import type { ServerReply } from "./sim_server.ts";
import type { VirtualTime } from "./virtual_time.ts";

/** Anything that answers NTP requests in the simulation (a SimServer or a SimNode). */
export interface SimResponder {
  /** Answers a request arriving at true time `rxTrue`, or returns null for no reply. */
  respond(request: Uint8Array, rxTrue: Instant): ServerReply | null;
  /**
   * Called at true time `txTrue` when the reply `bytes` leaves the server: the simulator's
   * counterpart of the kernel's transmit timestamp (a server in interleaved mode reads its
   * clock here and hands the time to its store). Optional; most responders ignore it.
   */
  transmitted?(bytes: Uint8Array, txTrue: Instant): void;
}

/** A server reachable through a path. */
export interface SimRoute {
  /** The server answering at this address. */
  server: SimResponder;
  /** The network path to it. */
  path: SimPath;
}

/** Receives a reply at the client: request id and bytes. */
export type DeliverFn = (requestId: number, bytes: Uint8Array) => void;

/** Client-side packet statistics (clknetsim's packet-interval figures). */
export interface TransportStats {
  /** Requests sent. */
  sent: number;
  /** Replies delivered to the client. */
  received: number;
  /** Requests refused at once (unknown address). */
  refused: number;
  /** Smallest true interval between two consecutive requests, seconds (Infinity if < 2). */
  minOutInterval: number;
  /** Mean true interval between consecutive requests, seconds (NaN if < 2). */
  meanOutInterval: number;
}

/** The simulated client transport. */
export class SimTransport implements NtpTransport {
  readonly #deliver: DeliverFn;
  readonly #vt: VirtualTime;
  readonly #start: Instant;
  readonly #routes = new Map<string, SimRoute>();
  #sent = 0;
  #received = 0;
  #refused = 0;
  #firstSend: Instant | null = null;
  #lastSend: Instant | null = null;
  #minInterval = Infinity;

  /**
   * A transport over virtual time; `start` is the simulation start (for path clocks) and
   * replies go to `deliver` (normally the engine's receiveReply).
   */
  constructor(vt: VirtualTime, start: Instant, deliver: DeliverFn) {
    this.#vt = vt;
    this.#start = start;
    this.#deliver = deliver;
  }

  /** Registers a server at an address. */
  addRoute(address: string, route: SimRoute): void {
    this.#routes.set(address, route);
  }

  /** Sends a request through the path to its server. */
  send(requestId: number, to: SocketAddress, packet: Uint8Array): boolean {
    const route = this.#routes.get(to.address);
    if (!route) {
      this.#refused++;
      return false;
    }
    const now = this.#vt.now;
    this.#sent++;
    if (this.#lastSend !== null) {
      const interval = Number(now - this.#lastSend) / 1e9;
      if (interval < this.#minInterval) this.#minInterval = interval;
    } else {
      this.#firstSend = now;
    }
    this.#lastSend = now;
    const up = route.path.transit("up", this.#seconds(now));
    if (up === null) return true;
    const bytes = packet.slice();
    this.#vt.scheduleIn(
      BigInt(Math.round(up * 1e9)),
      () => this.#atServer(requestId, route, bytes),
    );
    return true;
  }

  /** Client packet statistics so far. */
  stats(): TransportStats {
    const mean = this.#sent >= 2 && this.#firstSend !== null && this.#lastSend !== null
      ? Number(this.#lastSend - this.#firstSend) / 1e9 / (this.#sent - 1)
      : NaN;
    return {
      sent: this.#sent,
      received: this.#received,
      refused: this.#refused,
      minOutInterval: this.#minInterval,
      meanOutInterval: mean,
    };
  }

  #atServer(requestId: number, route: SimRoute, request: Uint8Array): void {
    const rx = this.#vt.now;
    const reply = route.server.respond(request, rx);
    if (!reply) return;
    const txAt = rx + BigInt(Math.round(reply.processing * 1e9));
    const transmitted = route.server.transmitted;
    if (transmitted !== undefined) {
      this.#vt.scheduleAt(txAt, () => transmitted.call(route.server, reply.bytes, txAt));
    }
    const down = route.path.transit("down", this.#seconds(txAt));
    if (down === null) return;
    this.#vt.scheduleAt(txAt + BigInt(Math.round(down * 1e9)), () => {
      this.#received++;
      this.#deliver(requestId, reply.bytes);
    });
  }

  #seconds(t: Instant): number {
    return Number(t - this.#start) / 1e9;
  }
}
