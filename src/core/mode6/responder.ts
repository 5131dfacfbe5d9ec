/**
 * The read-only mode 6 responder (RFC 9327; enough for ntpsec's `ntpq -p`, `ntpq -c rv`,
 * `ntpq -c as` and `ntpq -c "rv ASSOCID"`): READSTAT and READVAR for the system and its
 * associations, UNSPEC; writes and configuration get CERR_PERMISSION, every other opcode
 * (MRU lists, nonces, clock variables) CERR_BADOP.
 *
 * Bounded: at most MAX_FRAGMENTS fragments of at most 480 octets per request (variable
 * lists that would pass that lose whole items; READSTAT lists at most 468 associations),
 * and every answer is paid for from the byte budget (budget.ts). Requests from addresses
 * the access table denies get nothing, not even an error. Pure: the engine's state comes in
 * through a snapshot function called only for a request that is allowed.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";
import {
  CONTROL_HEADER_LENGTH,
  CONTROL_MAX_DATA,
  ControlError,
  ControlOp,
  type ControlRequest,
  decodeControlRequest,
  encodeControlFragment,
} from "../../ntp/control.ts";
import type { AccessTable } from "../access.ts";
import { Mode6Budget } from "./budget.ts";
import { fragmentData, layoutVariables, parseNameList } from "./payload.ts";
import {
  type Mode6Peer,
  type Mode6Snapshot,
  PEER_VARIABLES,
  peerStatusWord,
  peerVariable,
  SYSTEM_VARIABLES,
  systemStatusWord,
  systemVariable,
} from "./variables.ts";

/** Most fragments one request is answered with. */
export const MAX_FRAGMENTS = 4;
/** Most data octets of one answer. */
export const MAX_ANSWER_DATA: number = MAX_FRAGMENTS * CONTROL_MAX_DATA;
/** Most octets sent for one request (headers included). */
export const MAX_ANSWER_OCTETS: number = MAX_FRAGMENTS * (CONTROL_HEADER_LENGTH + CONTROL_MAX_DATA);

/** Counters of what happened to mode 6 requests. */
export interface Mode6Stats {
  /** Mode 6 datagrams seen. */
  received: number;
  /** Ignored as malformed (too short or long, a response, a fragment, bad version). */
  ignored: number;
  /** From an address the mode 6 access table denies. */
  denied: number;
  /** Not answered: the byte budget was spent. */
  rateLimited: number;
  /** Answered with an error response. */
  errors: number;
  /** Answered with data. */
  answered: number;
  /** Octets sent (all fragments, error responses included). */
  octetsSent: number;
  /** Variables left out of answers because of the size bound. */
  truncated: number;
}

/** What the responder needs. */
export interface Mode6Options {
  /** Who may query (chrony allow/deny semantics; the daemon puts loopback in by default). */
  access: AccessTable;
  /** The byte budget (a default one when omitted). */
  budget?: Mode6Budget;
}

/** What one request is answered with before it is encoded. */
interface Answer {
  status: number;
  data: Uint8Array;
  error: boolean;
}

function errorAnswer(code: number): Answer {
  return { status: code << 8, data: new Uint8Array(0), error: true };
}

/** Answers mode 6 requests from engine snapshots. */
export class Mode6Responder {
  readonly #access: AccessTable;
  readonly #budget: Mode6Budget;
  /** Counters. */
  readonly stats: Mode6Stats = {
    received: 0,
    ignored: 0,
    denied: 0,
    rateLimited: 0,
    errors: 0,
    answered: 0,
    octetsSent: 0,
    truncated: 0,
  };

  /** Creates a responder over an access table and a byte budget. */
  constructor(options: Mode6Options) {
    this.#access = options.access;
    this.#budget = options.budget ?? new Mode6Budget();
  }

  /**
   * Handles one mode 6 datagram: returns the fragments to send in order (empty: send
   * nothing). Never throws on any input; `snapshot` is called at most once, and only for a
   * request from an allowed address.
   *
   * @param request the datagram as received
   * @param from its source address (IP literal)
   * @param now cooked time of reception (for the byte budget)
   * @param snapshot reads the engine's state
   */
  respond(
    request: Uint8Array,
    from: { address: string },
    now: Instant,
    snapshot: () => Mode6Snapshot,
  ): Uint8Array[] {
    this.stats.received++;
    const decoded = decodeControlRequest(request);
    if (!decoded.ok && decoded.error.action === "ignore") {
      this.stats.ignored++;
      return [];
    }
    if (!this.#access.isAllowed(from.address)) {
      this.stats.denied++;
      return [];
    }
    let req: ControlRequest;
    let answer: Answer;
    let leap = 3;
    if (decoded.ok) {
      req = decoded.request;
      const snap = snapshot();
      leap = snap.reference.leap & 3;
      answer = this.#answer(req, snap);
    } else {
      const e = decoded.error;
      if (e.kind !== "bad-format") return []; // unreachable: every other kind is "ignore"
      req = { ...e, data: new Uint8Array(0), hasMac: false };
      answer = errorAnswer(ControlError.badFormat);
    }
    const chunks = fragmentData(answer.data);
    const fragments: Uint8Array[] = [];
    let offset = 0;
    let octets = 0;
    for (let i = 0; i < chunks.length && i < MAX_FRAGMENTS; i++) {
      const fragment = encodeControlFragment({
        leap,
        version: req.version,
        opcode: req.opcode,
        sequence: req.sequence,
        status: answer.status,
        associationId: req.associationId,
        offset,
        more: i < chunks.length - 1,
        error: answer.error,
      }, chunks[i]);
      offset += chunks[i].length;
      octets += fragment.length;
      fragments.push(fragment);
    }
    if (!this.#budget.take(from.address, octets, now)) {
      this.stats.rateLimited++;
      return [];
    }
    if (answer.error) this.stats.errors++;
    else this.stats.answered++;
    this.stats.octetsSent += octets;
    return fragments;
  }

  #answer(req: ControlRequest, snap: Mode6Snapshot): Answer {
    switch (req.opcode) {
      case ControlOp.unspec:
        return this.#status(req, snap, () => new Uint8Array(0));
      case ControlOp.readStatus:
        if (req.associationId === 0) {
          return { status: systemStatusWord(snap), data: associationList(snap), error: false };
        }
        return this.#status(req, snap, (peer) => this.#peerText(peer, PEER_VARIABLES, snap));
      case ControlOp.readVariables:
        return this.#readVariables(req, snap);
      case ControlOp.writeVariables:
      case ControlOp.writeClock:
      case ControlOp.configure:
        return errorAnswer(ControlError.permission);
      default:
        return errorAnswer(ControlError.badOpcode);
    }
  }

  /** System status for association 0, else the peer's status and `data(peer)`. */
  #status(
    req: ControlRequest,
    snap: Mode6Snapshot,
    data: (peer: Mode6Peer) => Uint8Array,
  ): Answer {
    if (req.associationId === 0) {
      return { status: systemStatusWord(snap), data: new Uint8Array(0), error: false };
    }
    const peer = findPeer(snap, req.associationId);
    if (peer === null) return errorAnswer(ControlError.badAssociation);
    return { status: peerStatusWord(peer), data: data(peer), error: false };
  }

  #readVariables(req: ControlRequest, snap: Mode6Snapshot): Answer {
    const parsed = parseNameList(req.data);
    if (!parsed.ok) return errorAnswer(ControlError.badFormat);
    const names = parsed.names;
    if (req.associationId === 0) {
      const items: string[] = [];
      for (const name of names.length > 0 ? names : SYSTEM_VARIABLES) {
        const value = systemVariable(name, snap);
        if (value === null) return errorAnswer(ControlError.unknownVariable);
        items.push(`${name}=${value}`);
      }
      return { status: systemStatusWord(snap), data: this.#layout(items), error: false };
    }
    const peer = findPeer(snap, req.associationId);
    if (peer === null) return errorAnswer(ControlError.badAssociation);
    if (names.some((n) => !PEER_VARIABLES.includes(n))) {
      return errorAnswer(ControlError.unknownVariable);
    }
    const wanted = names.length > 0 ? names : PEER_VARIABLES;
    return { status: peerStatusWord(peer), data: this.#peerText(peer, wanted, snap), error: false };
  }

  #peerText(peer: Mode6Peer, names: readonly string[], snap: Mode6Snapshot): Uint8Array {
    const items: string[] = [];
    for (const name of names) {
      const value = peerVariable(name, peer, snap.now);
      if (value !== null) items.push(`${name}=${value}`);
    }
    return this.#layout(items);
  }

  #layout(items: string[]): Uint8Array {
    const laid = layoutVariables(items, MAX_ANSWER_DATA);
    this.stats.truncated += laid.omitted;
    return laid.bytes;
  }
}

function findPeer(snap: Mode6Snapshot, associationId: number): Mode6Peer | null {
  return snap.peers.find((p) => p.associationId === associationId) ?? null;
}

/** READSTAT 0: (association ID, peer status) pairs, at most MAX_ANSWER_DATA / 4 of them. */
function associationList(snap: Mode6Snapshot): Uint8Array {
  const peers = snap.peers.slice(0, MAX_ANSWER_DATA / 4);
  const out = new Uint8Array(peers.length * 4);
  const view = new DataView(out.buffer);
  peers.forEach((p, i) => {
    view.setUint16(i * 4, p.associationId);
    view.setUint16(i * 4 + 2, peerStatusWord(p));
  });
  return out;
}
