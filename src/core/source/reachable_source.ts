/**
 * What every kind of source shows of its reachability register (reachability.ts): the
 * register, its size and the run counts selection reads, and the address as text.
 *
 * @module
 */
import type { SocketAddress } from "../../base/ports.ts";
import { Reachability } from "./reachability.ts";

/** A base for sources: the reachability register and the address as text. */
export abstract class ReachableSource {
  /** Remote address (a reference clock: its pseudo-address). */
  abstract readonly address: SocketAddress;
  /** The reachability register. */
  protected reach = new Reachability();

  /** 8-bit reachability register. */
  get reachability(): number {
    return this.reach.register;
  }
  /** Polls shifted into the reachability register so far (0..8). */
  get reachabilitySize(): number {
    return this.reach.size;
  }
  /** Consecutive polls without reply while the register is all zero. */
  get unreachableRun(): number {
    return this.reach.unreachableRun;
  }
  /** Polls since a reply last passed every test (see Reachability). */
  get pollsSinceGoodSample(): number {
    return this.reach.pollsSinceGoodSample;
  }
  /** Address as text ("192.0.2.1", or a reference clock's refid). */
  get addressText(): string {
    return this.address.address;
  }
}
