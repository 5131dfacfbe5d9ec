/**
 * The XDP responder's kernel side: its maps, the program (responder_program.ts) loaded and,
 * with `attach`, linked to interfaces (the links go when the descriptors close, so nothing is
 * left attached after the daemon). The daemon writes the state (responder_state.ts) and the
 * access prefixes through it and reads the counters back. Mechanism only.
 *
 * @module
 */
import {
  BPF_F_NO_PREALLOC,
  BPF_PROG_TYPE_XDP,
  bpfClose,
  bpfMapCreate,
  bpfMapDelete,
  bpfMapKeys,
  bpfMapLookup,
  BpfMapType,
  bpfMapUpdate,
  bpfProgLoad,
  bpfProgTestRun,
  type BpfTestRun,
  bpfXdpLinkCreate,
  interfaceIndex,
  XdpAttachMode,
} from "../../../ffi/bpf.ts";
import { buildXdpResponder, type XdpResponderMaps, XdpStat } from "./responder_program.ts";
import { encodeXdpState, XDP_STATE_SIZE, type XdpResponderState } from "./responder_state.ts";

/** Most access prefixes the trie holds. */
const ACCESS_ENTRIES = 4096;
/** Clients counted at once (least recently seen ones are dropped first). */
export const XDP_CLIENT_ENTRIES = 65536;

/** One IPv4 access prefix (AccessTable.ipv4Prefixes). */
export interface XdpAccessPrefix {
  /** 4 address octets. */
  bytes: Uint8Array;
  /** Prefix length, 0-32. */
  prefix: number;
  /** Allowed (else denied). */
  allow: boolean;
}

/** A client the responder answered. */
export interface XdpClient {
  /** IPv4 address. */
  address: string;
  /** Requests seen (answered, or dropped by the rate limit). */
  hits: number;
  /** Requests the rate limit dropped (a KoD RATE may have been sent). */
  drops: number;
  /** CLOCK_MONOTONIC of the last one, ns. */
  lastMonotonicNs: bigint;
}

/** What the kernel did with the requests it took. */
export interface XdpCounters {
  /** Answered normally. */
  answered: number;
  /** Over the rate limit: dropped, or answered with a KoD RATE. */
  limited: number;
  /** KoD RATE replies sent (counted in `limited` too). */
  kod: number;
}

/** Loaded maps and program; `attach` links it to interfaces. */
export class XdpResponder {
  readonly #maps: XdpResponderMaps;
  readonly #program: number;
  readonly #links: number[] = [];
  #active = 1;
  #closed = false;

  private constructor(maps: XdpResponderMaps, program: number) {
    this.#maps = maps;
    this.#program = program;
  }

  /** Creates the maps and loads the program (needs CAP_BPF). Throws with the reason. */
  static load(): XdpResponder {
    const fds: number[] = [];
    const make = (spec: Parameters<typeof bpfMapCreate>[0]) => {
      const fd = bpfMapCreate(spec);
      fds.push(fd);
      return fd;
    };
    try {
      const maps: XdpResponderMaps = {
        state: make({
          type: BpfMapType.array,
          keySize: 4,
          valueSize: XDP_STATE_SIZE,
          maxEntries: 3,
          name: "tempus_state",
        }),
        access: make({
          type: BpfMapType.lpmTrie,
          keySize: 8,
          valueSize: 1,
          maxEntries: ACCESS_ENTRIES,
          flags: BPF_F_NO_PREALLOC,
          name: "tempus_access",
        }),
        stats: make({
          type: BpfMapType.array,
          keySize: 4,
          valueSize: 8,
          maxEntries: 3,
          name: "tempus_stats",
        }),
        clients: make({
          type: BpfMapType.lruHash,
          keySize: 4,
          valueSize: 32,
          maxEntries: XDP_CLIENT_ENTRIES,
          name: "tempus_clients",
        }),
      };
      const program = bpfProgLoad(BPF_PROG_TYPE_XDP, buildXdpResponder(maps), "tempus_ntp");
      return new XdpResponder(maps, program);
    } catch (e) {
      for (const fd of fds) bpfClose(fd);
      throw e;
    }
  }

  /**
   * Links the program to interface `name`: "auto" lets the kernel choose (native where the
   * driver has XDP, else generic), "native" refuses a driver without it, "generic" runs it
   * after the driver (SKB mode) on any interface.
   */
  attach(name: string, mode: keyof typeof XdpAttachMode = "auto"): void {
    const index = interfaceIndex(name);
    if (index === 0) throw new Error(`no interface named ${name}`);
    this.#links.push(bpfXdpLinkCreate(this.#program, index, XdpAttachMode[mode]));
  }

  /** Writes a new state: into the inactive entry, then makes it the active one. */
  setState(state: XdpResponderState): void {
    const next = this.#active === 1 ? 2 : 1;
    bpfMapUpdate(this.#maps.state, u32(next), encodeXdpState(state));
    const index = new Uint8Array(XDP_STATE_SIZE);
    new DataView(index.buffer).setUint32(0, next, true);
    bpfMapUpdate(this.#maps.state, u32(0), index);
    this.#active = next;
  }

  /**
   * Replaces the access prefixes. Callers disable the state around it (`setState` with
   * `enabled: false`), so no request is judged by half a table.
   */
  setAccess(prefixes: readonly XdpAccessPrefix[]): void {
    for (const key of bpfMapKeys(this.#maps.access, 8)) bpfMapDelete(this.#maps.access, key);
    for (const p of prefixes.slice(0, ACCESS_ENTRIES)) {
      const key = new Uint8Array(8);
      new DataView(key.buffer).setUint32(0, p.prefix, true);
      key.set(p.bytes.subarray(0, 4), 4);
      bpfMapUpdate(this.#maps.access, key, Uint8Array.of(p.allow ? 1 : 0));
    }
  }

  /** The kernel's counters so far. */
  counters(): XdpCounters {
    const value = new Uint8Array(8);
    const read = (index: number) =>
      bpfMapLookup(this.#maps.stats, u32(index), value)
        ? Number(new DataView(value.buffer).getBigUint64(0, true))
        : 0;
    return {
      answered: read(XdpStat.answered),
      limited: read(XdpStat.limited),
      kod: read(XdpStat.kod),
    };
  }

  /** Every client counted (up to XDP_CLIENT_ENTRIES, the least recent dropped first). */
  clients(): XdpClient[] {
    const out: XdpClient[] = [];
    const value = new Uint8Array(32);
    const view = new DataView(value.buffer);
    for (const key of bpfMapKeys(this.#maps.clients, 4)) {
      if (!bpfMapLookup(this.#maps.clients, key, value)) continue;
      out.push({
        address: key.join("."),
        hits: Number(view.getBigUint64(0, true)),
        lastMonotonicNs: view.getBigUint64(8, true),
        drops: Number(view.getBigUint64(24, true)),
      });
    }
    return out;
  }

  /** Runs the program once on `frame` (BPF_PROG_TEST_RUN; tests and the bench). */
  testRun(frame: Uint8Array, repeat = 1): BpfTestRun {
    return bpfProgTestRun(this.#program, frame, repeat);
  }

  /** Detaches from every interface and frees the maps and program. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fd of this.#links) bpfClose(fd);
    bpfClose(this.#program);
    for (const fd of Object.values(this.#maps)) bpfClose(fd);
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
