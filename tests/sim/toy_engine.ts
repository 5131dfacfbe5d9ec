/**
 * A toy NTP client used to test the simulator on its own (not tempus's engine): it polls
 * one source at a fixed interval, steps the clock by each measured offset and corrects its
 * frequency from the offset drift between polls. Good enough to close the loop.
 *
 * @module
 */
import type { Config, SourceParams, SourceType } from "../../src/config/model.ts";
import type { NtpTransport, SocketAddress } from "../../src/base/ports.ts";
import type { Instant } from "../../src/base/time.ts";
import { decodePacket, emptyPacket, encodePacket, NtpMode } from "../../src/ntp/packet.ts";
import { instantToNtp64, ntp64ToInstant } from "../../src/ntp/timestamp.ts";
import type { SimClientEngine, SimEngineDeps } from "../../src/sim/scenario.ts";

/** The toy client. */
export class ToyEngine implements SimClientEngine {
  /** Cooked = raw for the toy. */
  readonly clock: { cookedNow(): Instant };
  /** Offsets measured, seconds. */
  readonly measured: number[] = [];
  readonly #deps: SimEngineDeps;
  readonly #interval: number;
  #source: SocketAddress | null = null;
  #nextId = 1;
  #pending = new Map<number, bigint>();
  #timer: number | null = null;
  #transport: NtpTransport | null = null;
  #lastOffsetTime: Instant | null = null;

  /** A toy polling every `interval` local seconds. */
  constructor(_config: Config, deps: SimEngineDeps, interval = 16) {
    this.#deps = deps;
    this.#interval = interval;
    this.clock = { cookedNow: () => deps.driver.readRawTime() };
  }

  /** Remembers the (single) source. */
  addSource(_t: SourceType, address: SocketAddress, _p: SourceParams, _n: string | null): number {
    this.#source = address;
    return 1;
  }

  /** Starts polling. */
  start(transport: NtpTransport): void {
    this.#transport = transport;
    this.#timer = this.#deps.timers.setTimer(0.2, () => this.#poll());
  }

  /** Stops polling. */
  stop(): void {
    if (this.#timer !== null) this.#deps.timers.cancelTimer(this.#timer);
  }

  /** Processes a reply. */
  receiveReply(requestId: number, bytes: Uint8Array, rxCooked: Instant): void {
    const tx = this.#pending.get(requestId);
    if (tx === undefined) return;
    this.#pending.delete(requestId);
    const d = decodePacket(bytes);
    if (!d.ok) return;
    const t1 = ntp64ToInstant(d.packet.originTime, rxCooked);
    const t2 = ntp64ToInstant(d.packet.receiveTime, rxCooked);
    const t3 = ntp64ToInstant(d.packet.transmitTime, rxCooked);
    const offset = (Number(t2 - t1) + Number(t3 - rxCooked)) / 2e9;
    this.measured.push(offset);
    const driver = this.#deps.driver;
    if (this.#lastOffsetTime !== null) {
      const span = Number(rxCooked - this.#lastOffsetTime) / 1e9;
      driver.setFrequencyPpm(driver.readFrequencyPpm() + (offset / span) * 1e6 * 0.8);
    }
    driver.stepBy(offset);
    this.#lastOffsetTime = driver.readRawTime();
    this.#deps.log.log("info", `Selected source ${this.#source?.address}`);
  }

  #poll(): void {
    this.#timer = this.#deps.timers.setTimer(this.#interval, () => this.#poll());
    if (!this.#source) return;
    const id = this.#nextId++;
    const now = this.#deps.driver.readRawTime();
    const p = emptyPacket(NtpMode.Client);
    p.transmitTime = instantToNtp64(now);
    this.#pending.set(id, now);
    this.#transport?.send(id, this.#source, encodePacket(p));
  }
}
