/**
 * The part of the Source interface that concerns the network, for a source that never sends
 * (a reference clock): always online, never denied, no requests, no replies, no bursts.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";
import type { SourceMode, SourceOutcome } from "./source.ts";
import { ReachableSource } from "./reachable_source.ts";

/** A base for sources that send nothing; subclasses supply the rest of `Source`. */
export abstract class SilentSource extends ReachableSource {
  /** No name. */
  readonly name: null = null;
  /** Always online. */
  get mode(): SourceMode {
    return "online";
  }
  /** Never denied. */
  get denied(): boolean {
    return false;
  }
  /** Nothing is transmitted. */
  get lastTransmit(): Instant | null {
    return null;
  }
  /** Nothing is ever sent. */
  sent(): SourceOutcome[] {
    return [];
  }
  /** Nothing is ever sent. */
  transmitted(): void {}
  /** Nothing is ever sent. */
  sendFailed(): SourceOutcome[] {
    return [];
  }
  /** No replies come. */
  receive(): SourceOutcome[] {
    return [];
  }
  /** No requests outstanding. */
  expects(): boolean {
    return false;
  }
  /** Always online (chrony: online/offline apply to NTP sources only). */
  setOnline(): SourceOutcome[] {
    return [];
  }
  /** No bursts. */
  burst(): SourceOutcome[] {
    return [];
  }
}
