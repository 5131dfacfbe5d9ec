/**
 * A simulated host running a tempus engine: its own clock, timers, client transport and
 * engine, and a server side that answers NTP requests from the engine's reference state
 * with tempus's responder, stamping with the node's cooked clock. Nodes let scenarios build
 * networks of strata (chrony's 002-largenetwork) where servers are engines too.
 *
 * @module
 */
import { AccessTable } from "../core/access.ts";
import { NtpResponder, type RequestSource } from "../core/server.ts";
import type { Instant } from "../base/time.ts";
import type { Config } from "../config/model.ts";
import type { ReferenceState } from "../core/types.ts";
import { LogCapture } from "./log_capture.ts";
import type { SimRandom } from "./prng.ts";
import type { SimClientEngine, SimEngineDeps } from "./scenario.ts";
import { type ClockSpec, SimClock } from "./sim_clock.ts";
import type { ServerReply } from "./sim_server.ts";
import { SimTimers } from "./sim_timers.ts";
import { SimTransport } from "./sim_transport.ts";
import type { VirtualTime } from "./virtual_time.ts";

/** An engine that also serves time: it exposes its reference state. */
export interface SimServingEngine extends SimClientEngine {
  /** What its NTP server announces. */
  referenceState(): ReferenceState;
}

/** Creates a node's engine (tempus: `new Engine(config, deps)`). */
export type SimNodeEngineFactory = (config: Config, deps: SimEngineDeps) => SimServingEngine;

/** What a node needs to be built. */
export interface SimNodeOptions {
  /** Node name for messages (e.g. "node6"). */
  name: string;
  /** Its own address. */
  address: string;
  /** Oscillator. */
  clock: ClockSpec;
  /** Engine configuration. */
  config: Config;
  /** Simulated seconds (sizes the clock's records). */
  seconds: number;
  /** Random stream for the clock's wander and the engine. */
  random: SimRandom;
  /** Log substrings to count. */
  watch: string[];
}

/** The server side's processing time, seconds. */
const PROCESSING = 1e-6;

/** A host with a clock, an engine and an NTP server. */
export class SimNode {
  /** Name. */
  readonly name: string;
  /** Address. */
  readonly address: string;
  /** The node's clock. */
  readonly clock: SimClock;
  /** Its timers. */
  readonly timers: SimTimers;
  /** Its client transport (routes to its upstream servers). */
  readonly transport: SimTransport;
  /** Its log. */
  readonly log: LogCapture;
  /** Its engine. */
  readonly engine: SimServingEngine;
  /** Requests received by its server side. */
  requests = 0;
  readonly #vt: VirtualTime;
  readonly #responder = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "all", all: true }]),
    clientLog: null,
  });

  /** Builds the node at true time `vt.now` (the simulation start). */
  constructor(
    vt: VirtualTime,
    options: SimNodeOptions,
    factory: SimNodeEngineFactory,
  ) {
    this.#vt = vt;
    this.name = options.name;
    this.address = options.address;
    const start = vt.now;
    this.clock = new SimClock(vt, options.clock, options.seconds, options.random.fork());
    this.timers = new SimTimers(vt, this.clock);
    this.log = new LogCapture(() => this.clock.secondsSinceStart(vt.now), options.watch);
    this.engine = factory(options.config, {
      driver: this.clock,
      timers: this.timers,
      random: options.random.fork(),
      log: this.log,
    });
    const engine = this.engine;
    this.transport = new SimTransport(vt, start, (id, bytes) => {
      engine.receiveReply(id, bytes, engine.clock.cookedNow());
    });
  }

  /** Answers a request arriving now (true time `rxTrue`) from the engine's reference. */
  respond(request: Uint8Array, rxTrue: Instant): ServerReply | null {
    this.requests++;
    if (rxTrue !== this.#vt.now) return null;
    const rx = this.engine.clock.cookedNow();
    const from: RequestSource = { address: "192.168.123.250", port: 40123 };
    const reply = this.#responder.respond(
      request,
      from,
      rx,
      this.engine.referenceState(),
      () => rx + BigInt(Math.round(PROCESSING * 1e9)),
    );
    return reply === null ? null : { bytes: reply.slice(), processing: PROCESSING };
  }
}
