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
  BPF_PROG_TYPE_SCHED_CLS,
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
  bpfTcxIngressLinkCreate,
  type BpfTestRun,
  bpfXdpLinkCreate,
  interfaceIndex,
  XdpAttachMode,
} from "../../../ffi/bpf.ts";
import {
  buildXdpResponder,
  type ResponderHook,
  type XdpResponderMaps,
  XdpStat,
} from "./responder_program.ts";
import { encodeXdpState, XDP_STATE_SIZE, type XdpResponderState } from "./responder_state.ts";

/** sizeof(struct __sk_buff) and the offset of its tstamp, for test runs of the tc program. */
const SK_BUFF_SIZE = 192;
const SK_BUFF_TSTAMP = 152;

/** Most access prefixes the trie holds. */
export const XDP_ACCESS_ENTRIES = 4096;
/** State entries written in turn (entry 0 names the active one). */
const STATE_SLOTS = 16;
/** Most local addresses the bind-any check knows. */
const LOCAL_ENTRIES = 256;
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
  readonly #hook: ResponderHook;
  #active = 1;
  #closed = false;

  private constructor(maps: XdpResponderMaps, program: number, hook: ResponderHook) {
    this.#maps = maps;
    this.#program = program;
    this.#hook = hook;
  }

  /**
   * Creates the maps and loads the program for `hook` (needs CAP_BPF). Throws with the reason.
   */
  static load(hook: ResponderHook = "xdp"): XdpResponder {
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
          maxEntries: 1 + STATE_SLOTS,
          name: "tempus_state",
        }),
        local: make({
          type: BpfMapType.hash,
          keySize: 4,
          valueSize: 1,
          maxEntries: LOCAL_ENTRIES,
          name: "tempus_local",
        }),
        access: make({
          type: BpfMapType.lpmTrie,
          keySize: 8,
          valueSize: 1,
          maxEntries: XDP_ACCESS_ENTRIES,
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
      const program = bpfProgLoad(
        hook === "tc" ? BPF_PROG_TYPE_SCHED_CLS : BPF_PROG_TYPE_XDP,
        buildXdpResponder(maps, hook),
        "tempus_ntp",
      );
      return new XdpResponder(maps, program, hook);
    } catch (e) {
      for (const fd of fds) bpfClose(fd);
      throw e;
    }
  }

  /**
   * Links the program to interface `name`. An XDP program: "auto" lets the kernel choose
   * (native where the driver has XDP, else generic), "native" refuses a driver without it,
   * "generic" runs it after the driver (SKB mode) on any interface. A tc program goes to the
   * interface's tcx ingress hook (`mode` is not used).
   */
  attach(name: string, mode: keyof typeof XdpAttachMode = "auto"): void {
    const index = interfaceIndex(name);
    if (index === 0) throw new Error(`no interface named ${name}`);
    this.#links.push(
      this.#hook === "tc"
        ? bpfTcxIngressLinkCreate(this.#program, index)
        : bpfXdpLinkCreate(this.#program, index, XdpAttachMode[mode]),
    );
  }

  /**
   * Writes a new state into the next entry, then makes it the active one. Entries are used in
   * turn, so a program that read the index just before a write still finds its entry whole
   * unless STATE_SLOTS - 1 more writes come before it reads the entry.
   */
  setState(state: XdpResponderState): void {
    const next = (this.#active % STATE_SLOTS) + 1;
    bpfMapUpdate(this.#maps.state, u32(next), encodeXdpState(state));
    const index = new Uint8Array(XDP_STATE_SIZE);
    new DataView(index.buffer).setUint32(0, next, true);
    bpfMapUpdate(this.#maps.state, u32(0), index);
    this.#active = next;
  }

  /**
   * Replaces the access prefixes. Callers disable the state around it (`setState` with
   * `enabled: false`) and keep it disabled when this throws, so no request is judged by half a
   * table. Throws when there are more than XDP_ACCESS_ENTRIES.
   */
  setAccess(prefixes: readonly XdpAccessPrefix[]): void {
    if (prefixes.length > XDP_ACCESS_ENTRIES) {
      throw new Error(`${prefixes.length} access prefixes, at most ${XDP_ACCESS_ENTRIES} fit`);
    }
    for (const key of bpfMapKeys(this.#maps.access, 8, XDP_ACCESS_ENTRIES)) {
      bpfMapDelete(this.#maps.access, key);
    }
    for (const p of prefixes) {
      const key = new Uint8Array(8);
      new DataView(key.buffer).setUint32(0, p.prefix, true);
      key.set(p.bytes.subarray(0, 4), 4);
      bpfMapUpdate(this.#maps.access, key, Uint8Array.of(p.allow ? 1 : 0));
    }
  }

  /**
   * Sets this host's IPv4 addresses (the bind-any check): new ones are added before gone ones
   * are removed. Throws when there are more than LOCAL_ENTRIES.
   */
  setLocalAddresses(addresses: readonly Uint8Array[]): void {
    if (addresses.length > LOCAL_ENTRIES) {
      throw new Error(`${addresses.length} local addresses, at most ${LOCAL_ENTRIES} fit`);
    }
    const wanted = new Set(addresses.map((a) => a.join(".")));
    for (const a of addresses) bpfMapUpdate(this.#maps.local, a.subarray(0, 4), Uint8Array.of(1));
    for (const key of bpfMapKeys(this.#maps.local, 4, LOCAL_ENTRIES)) {
      if (!wanted.has(key.join("."))) bpfMapDelete(this.#maps.local, key);
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
    for (const key of bpfMapKeys(this.#maps.clients, 4, XDP_CLIENT_ENTRIES)) {
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

  /**
   * Runs the program on `frame` (BPF_PROG_TEST_RUN; tests and the bench); a tc program with
   * the kernel receive timestamp `tstamp` (CLOCK_REALTIME ns) when given.
   */
  testRun(frame: Uint8Array, repeat = 1, tstamp: bigint | null = null): BpfTestRun {
    let context: Uint8Array | null = null;
    if (tstamp !== null) {
      context = new Uint8Array(SK_BUFF_SIZE);
      new DataView(context.buffer).setBigUint64(SK_BUFF_TSTAMP, tstamp, true);
    }
    return bpfProgTestRun(this.#program, frame, repeat, context);
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
