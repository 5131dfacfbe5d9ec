/**
 * Manycast client policy (ntpd's manycastclient), pure: one solicitation is a client request
 * sent to a multicast group; each unicast answer is measured like any reply (measureReply,
 * tests 1-3, 5-7, A-D, the group's key when configured); the answers that gave a good
 * sample are ranked by root distance, and the best servers not yet in use are mobilised up
 * to the bound. Associations unreachable for a whole register are dropped, and the group is
 * solicited again while fewer than the bound remain.
 *
 * @module
 */
import type { KeyStore, SymmetricKey } from "../../ntp/keyfile.ts";
import type { SocketAddress } from "../../base/ports.ts";
import type { Instant } from "../../base/time.ts";
import { buildClientRequest, type ClientRequest, measureReply } from "./measure.ts";

/** One server that answered a solicitation well. */
export interface ManycastResponder {
  /** Where it answered from. */
  address: SocketAddress;
  /** Its root distance as measured, seconds (the ranking). */
  rootDistance: number;
}

/** One solicitation of a group and the answers it collected. */
export class ManycastSolicitation {
  /** The request to send to the group. */
  readonly request: ClientRequest;
  readonly #tx: Instant;
  readonly #auth: { keys: KeyStore; keyId: number } | null;
  readonly #precision: number;
  readonly #best = new Map<string, ManycastResponder>();
  /** Answers that were not usable (bad, unsynchronised, unauthenticated...). */
  rejected = 0;

  /**
   * A solicitation sent at cooked time `tx`, with 8 random octets for its cookie, signed
   * with `key` (of `keys`) when given.
   */
  constructor(
    random8: Uint8Array,
    tx: Instant,
    options: { key: SymmetricKey | null; keys: KeyStore | null; precision: number; poll: number },
  ) {
    this.request = buildClientRequest(random8, { key: options.key, poll: options.poll });
    this.#tx = tx;
    this.#auth = options.key !== null && options.keys !== null
      ? { keys: options.keys, keyId: options.key.id }
      : null;
    this.#precision = options.precision;
  }

  /** An answer `bytes` from `from` at cooked time `rx`. Never throws. */
  answer(bytes: Uint8Array, from: SocketAddress, rx: Instant): void {
    const v = measureReply(
      bytes,
      rx,
      { cookie: this.request.cookie, localTx: this.#tx, presend: false, answered: false },
      {
        lastRemoteTx: null,
        auth: this.#auth,
        localPrecision: this.#precision,
        offsetCorrection: 0,
        skew: 0,
        maxDelay: 3,
        maxDelayRatio: 0,
        maxDelayDevRatio: 10,
        maxClockError: 1,
        delayTestData: () => null,
        reference: null,
      },
    );
    if (v.kind !== "valid" || v.rejection !== null || v.kodRate) {
      this.rejected++;
      return;
    }
    const r = v.measurement.rootDistance;
    const seen = this.#best.get(from.address);
    if (seen === undefined || r < seen.rootDistance) {
      this.#best.set(from.address, { address: { ...from }, rootDistance: r });
    }
  }

  /** Up to `room` responders not in `inUse`, best (lowest root distance) first. */
  choose(inUse: ReadonlySet<string>, room: number): ManycastResponder[] {
    if (room <= 0) return [];
    return [...this.#best.values()]
      .filter((r) => !inUse.has(r.address.address))
      .sort((a, b) => a.rootDistance - b.rootDistance)
      .slice(0, room);
  }
}

/** What the manycast client reads of one of its associations. */
export interface ManycastMember {
  /** Engine id. */
  id: number;
  /** 8-bit reachability register. */
  reachability: number;
  /** Polls shifted into it so far. */
  reachabilitySize: number;
}

/**
 * The plan at a check: members to drop (unreachable for a full register) and how many
 * servers to mobilise (0: no solicitation needed).
 */
export function manycastPlan(
  members: ManycastMember[],
  bound: number,
): { drop: number[]; wanted: number } {
  const drop = members.filter((m) => m.reachabilitySize >= 8 && m.reachability === 0)
    .map((m) => m.id);
  const alive = members.length - drop.length;
  return { drop, wanted: Math.max(0, bound - alive) };
}
