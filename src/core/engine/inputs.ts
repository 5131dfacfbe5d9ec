/**
 * The engine's inputs from the edges: replies and transmit reports of requests (routed by
 * request id), symmetric packets for configured peers, packets that answer no request (a
 * broadcast), and reference-clock samples and pulses. Each is handed to its source and the
 * outcomes are carried out by `EngineCore`; nothing read from the network or a device
 * throws out of here.
 *
 * @module
 */
import type { SocketAddress } from "../../base/ports.ts";
import type { Instant } from "../../base/time.ts";
import { PeerSource } from "../source/peer.ts";
import { RefclockSource } from "../source/refclock.ts";
import type { Source, SourceContext, SourceOutcome } from "../source/source.ts";
import { EngineCore } from "./core.ts";
import { peerFor, peerLocalRefId } from "./peer_routing.ts";

/** `EngineCore` with the inputs from sockets and reference-clock drivers. */
export class EngineInputs extends EngineCore {
  /**
   * Hands source `id` a packet that answers no request of its own (a broadcast): `call`
   * gets the source and its context; its outcomes are carried out. Never throws.
   */
  callSource(id: number, call: (s: Source, ctx: SourceContext) => SourceOutcome[]): void {
    const s = this.registry.get(id);
    if (s === undefined || !this.running) return;
    try {
      const samplesBefore = s.stats.sampleCount;
      const validBefore = s.counters.validRx;
      this.run(s, call(s, this.context(s)), samplesBefore);
      if (s.counters.validRx !== validBefore) this.onReply?.(s.id); // measurements.log
    } catch (e) {
      this.log("error", `Packet for ${s.addressText} not processed: ${String(e)}`);
    }
  }

  /**
   * A reference clock driver's sample for source `id`: the system (raw) time `rawTime` at
   * which the device's time was taken, `offset` = device time minus `rawTime` in seconds,
   * and the device's leap indicator. Unknown ids and bad values are dropped, never thrown.
   */
  refclockSample(id: number, rawTime: Instant, offset: number, leap: number): void {
    const s = this.registry.get(id);
    if (!(s instanceof RefclockSource)) return;
    const cooked = this.clock.cook(rawTime);
    const correction = Number(cooked - rawTime) / 1e9;
    this.run(s, s.addSample({ time: cooked, offset: offset - correction, leap }, this.context(s)));
  }

  /**
   * A pulse from a refclock driver for source `id`: at the system (raw) time `rawTime` the
   * clock read `second` seconds past the pulse's true second (chrony RCL_AddPulse).
   */
  refclockPulse(id: number, rawTime: Instant, second: number): void {
    const s = this.registry.get(id);
    if (!(s instanceof RefclockSource)) return;
    const cooked = this.clock.cook(rawTime);
    const correction = Number(cooked - rawTime) / 1e9;
    this.run(s, s.addPulse(cooked, second + correction, this.context(s)));
  }

  /**
   * The transport's better transmit time for request `requestId` (a kernel transmit
   * timestamp, cooked), reported right after sending; replaces the time read before.
   */
  transmitted(requestId: number, txCooked: Instant): void {
    const route = this.routes.get(requestId);
    route?.source.transmitted(route.token, txCooked);
  }

  /**
   * The kernel's transmit time (cooked) of a symmetric active packet (`payload`, from its
   * NTP header on) sent from the NTP port: handed to the peer whose newest packet it is,
   * matched by its transmit and receive fields (interleaved mode needs the true departure).
   */
  peerTransmitted(payload: Uint8Array, txCooked: Instant): void {
    if (payload.length < 48 || (payload[0] & 7) !== 1) return;
    const view = new DataView(payload.buffer, payload.byteOffset, 48);
    const receiveField = view.getBigUint64(32, false);
    const transmitField = view.getBigUint64(40, false);
    for (const s of this.registry.values()) {
      if (s instanceof PeerSource && s.transmittedPacket(transmitField, receiveField, txCooked)) {
        return;
      }
    }
  }

  /** The transport could not send request `requestId` after all (auto_offline applies). */
  sendFailed(requestId: number): void {
    const route = this.routes.get(requestId);
    if (route !== undefined) this.run(route.source, route.source.sendFailed(route.token));
  }

  /** True when a symmetric peer is configured for `address` (any port). */
  hasPeer(address: string): boolean {
    return peerFor(this.registry.values(), address, null) !== undefined;
  }

  /**
   * A symmetric packet (mode 1 or 2) received on the NTP server socket from `from` (at our
   * `localAddress`, when the socket has one): handed to the peer configured for that address
   * (and port, when several), and true; false when no peer is configured there (the
   * responder then answers it, or not).
   */
  receivePeerPacket(
    from: SocketAddress,
    packet: Uint8Array,
    rxCooked: Instant,
    localAddress: string | null = null,
  ): boolean {
    const s = peerFor(this.registry.values(), from.address, from.port);
    if (s === undefined) return false;
    try {
      const samplesBefore = s.stats.sampleCount;
      // Test D compares the peer's reference ID with the address it reached us at.
      const ctx = this.context(s);
      const localRefId = peerLocalRefId(from, localAddress);
      const peerCtx = localRefId === undefined ? ctx : { ...ctx, localRefId };
      this.run(s, s.receive(0, packet, rxCooked, peerCtx), samplesBefore);
      this.onReply?.(s.id);
    } catch (e) {
      this.log("error", `Packet from ${s.addressText} not processed: ${String(e)}`);
    }
    return true;
  }

  /**
   * Hands a reply to the source that sent request `requestId`; `rxKernel`: `rxCooked` was
   * made from the kernel's receive timestamp.
   */
  receiveReply(requestId: number, packet: Uint8Array, rxCooked: Instant, rxKernel = false): void {
    const route = this.routes.get(requestId);
    if (route === undefined) return;
    const s = route.source;
    try {
      const samplesBefore = s.stats.sampleCount;
      this.run(
        s,
        s.receive(route.token, packet, rxCooked, this.context(s), rxKernel),
        samplesBefore,
      );
      this.onReply?.(s.id); // dropin: measurements.log
    } catch (e) {
      // Nothing read from the network may throw out of the event loop.
      this.log("error", `Reply from ${s.addressText} not processed: ${String(e)}`);
    }
  }
}
