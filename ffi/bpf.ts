/**
 * The bpf(2) calls the XDP responder needs (src/io/xdp/): create maps, read and write their
 * elements, load a program (with the verifier's log on failure), run it on a test packet
 * (BPF_PROG_TEST_RUN) and attach it to an interface as a BPF link, which the kernel detaches
 * when the last descriptor closes, so a daemon that dies leaves nothing behind. Linux only;
 * loading and attaching need CAP_BPF and CAP_NET_ADMIN (root). Updating a map through a
 * descriptor already open needs no capability.
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";
import { lastErrno } from "./libc.ts";

const SYMBOLS = {
  bpf: { name: "syscall", parameters: ["i64", "i64", "buffer", "u64"], result: "i64" },
  close: { parameters: ["i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;

function symbols(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

const SYS_BPF: Partial<Record<typeof Deno.build.arch, number>> = { x86_64: 321, aarch64: 280 };

const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_MAP_UPDATE_ELEM = 2;
const BPF_MAP_DELETE_ELEM = 3;
const BPF_MAP_GET_NEXT_KEY = 4;
const BPF_PROG_LOAD = 5;
const BPF_PROG_TEST_RUN = 10;
const BPF_LINK_CREATE = 28;
/** union bpf_attr is larger; every command used here fits in this many octets. */
const ATTR_SIZE = 128;

/** Map types used here. */
export const BpfMapType = { hash: 1, array: 2, lruHash: 9, lpmTrie: 11 } as const;
/** BPF_PROG_TYPE_XDP. */
export const BPF_PROG_TYPE_XDP = 6;
/** BPF_PROG_TYPE_SCHED_CLS (tc and tcx programs). */
export const BPF_PROG_TYPE_SCHED_CLS = 3;
/** BPF_TCX_INGRESS, the attach type of a tcx ingress link (Linux 6.6 and later). */
const BPF_TCX_INGRESS = 46;
/** BPF_XDP, the attach type of an XDP link. */
const BPF_XDP_ATTACH = 37;
/** BPF_F_NO_PREALLOC: required by LPM tries. */
export const BPF_F_NO_PREALLOC = 1;

function bpf(cmd: number, attr: Uint8Array, what: string): number {
  const nr = SYS_BPF[Deno.build.arch];
  if (nr === undefined) throw new Error(`bpf: no system call number for ${Deno.build.arch}`);
  const r = Number(symbols().bpf(BigInt(nr), BigInt(cmd), attr, BigInt(attr.length)));
  if (r < 0) throw new ErrnoError(what, lastErrno());
  return r;
}

function address(buffer: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer as Uint8Array<ArrayBuffer>)));
}

function newAttr(): { attr: Uint8Array; view: DataView } {
  const attr = new Uint8Array(ATTR_SIZE);
  return { attr, view: new DataView(attr.buffer) };
}

/** True when bpf(2) can be called here (Linux, a known architecture, libc). */
export function bpfAvailable(): boolean {
  if (Deno.build.os !== "linux" || SYS_BPF[Deno.build.arch] === undefined) return false;
  try {
    symbols();
    return true;
  } catch {
    return false;
  }
}

/** Shape of a new map. */
export interface BpfMapSpec {
  /** BpfMapType value. */
  type: number;
  /** Key size, octets. */
  keySize: number;
  /** Value size, octets. */
  valueSize: number;
  /** Capacity. */
  maxEntries: number;
  /** BPF_F_* flags (BPF_F_NO_PREALLOC for tries). */
  flags?: number;
  /** Up to 15 characters, shown by bpftool. */
  name?: string;
}

/** BPF_MAP_CREATE: returns the map's descriptor. */
export function bpfMapCreate(spec: BpfMapSpec): number {
  const { attr, view } = newAttr();
  view.setUint32(0, spec.type, true);
  view.setUint32(4, spec.keySize, true);
  view.setUint32(8, spec.valueSize, true);
  view.setUint32(12, spec.maxEntries, true);
  view.setUint32(16, spec.flags ?? 0, true);
  if (spec.name) attr.set(new TextEncoder().encode(spec.name.slice(0, 15)), 28);
  return bpf(BPF_MAP_CREATE, attr, "bpf(BPF_MAP_CREATE)");
}

/** BPF_MAP_UPDATE_ELEM with BPF_ANY: sets `key` to `value`. */
export function bpfMapUpdate(fd: number, key: Uint8Array, value: Uint8Array): void {
  const { attr, view } = newAttr();
  view.setUint32(0, fd, true);
  view.setBigUint64(8, address(key), true);
  view.setBigUint64(16, address(value), true);
  bpf(BPF_MAP_UPDATE_ELEM, attr, "bpf(BPF_MAP_UPDATE_ELEM)");
}

/** BPF_MAP_LOOKUP_ELEM into `value`: false when the key is absent. */
export function bpfMapLookup(fd: number, key: Uint8Array, value: Uint8Array): boolean {
  const { attr, view } = newAttr();
  view.setUint32(0, fd, true);
  view.setBigUint64(8, address(key), true);
  view.setBigUint64(16, address(value), true);
  try {
    bpf(BPF_MAP_LOOKUP_ELEM, attr, "bpf(BPF_MAP_LOOKUP_ELEM)");
    return true;
  } catch (e) {
    if (e instanceof ErrnoError && e.code === "ENOENT") return false;
    throw e;
  }
}

/** BPF_MAP_DELETE_ELEM: false when the key was absent. */
export function bpfMapDelete(fd: number, key: Uint8Array): boolean {
  const { attr, view } = newAttr();
  view.setUint32(0, fd, true);
  view.setBigUint64(8, address(key), true);
  try {
    bpf(BPF_MAP_DELETE_ELEM, attr, "bpf(BPF_MAP_DELETE_ELEM)");
    return true;
  } catch (e) {
    if (e instanceof ErrnoError && e.code === "ENOENT") return false;
    throw e;
  }
}

/**
 * The keys of a map (BPF_MAP_GET_NEXT_KEY from none), each a fresh array of `keySize`, at most
 * `limit` distinct ones. When the previous key is deleted meanwhile (an LRU map evicting), the
 * walk starts over: keys are kept once, and the walk ends after 2 `limit` steps at most.
 */
export function bpfMapKeys(fd: number, keySize: number, limit: number): Uint8Array[] {
  const keys: Uint8Array[] = [];
  const seen = new Set<string>();
  let previous: Uint8Array | null = null;
  for (let step = 0; step < 2 * limit && keys.length < limit; step++) {
    const next = new Uint8Array(keySize);
    const { attr, view } = newAttr();
    view.setUint32(0, fd, true);
    if (previous !== null) view.setBigUint64(8, address(previous), true);
    view.setBigUint64(16, address(next), true);
    try {
      bpf(BPF_MAP_GET_NEXT_KEY, attr, "bpf(BPF_MAP_GET_NEXT_KEY)");
    } catch (e) {
      if (e instanceof ErrnoError && e.code === "ENOENT") return keys;
      throw e;
    }
    const id = next.join(",");
    if (!seen.has(id)) {
      seen.add(id);
      keys.push(next);
    }
    previous = next;
  }
  return keys;
}

/** A program the verifier refused, with its log. */
export class BpfVerifierError extends Error {
  /** The verifier's log (the last lines say why). */
  readonly log: string;
  /** The errno of BPF_PROG_LOAD. */
  readonly errno: ErrnoError;
  /** Builds the error from the load's errno and log. */
  constructor(cause: ErrnoError, log: string) {
    const tail = log.trim().split("\n").slice(-3).join(" | ");
    super(`${cause.message}${tail ? `: ${tail}` : ""}`);
    this.name = "BpfVerifierError";
    this.errno = cause;
    this.log = log;
  }
}

/**
 * BPF_PROG_LOAD of `instructions` (8 octets each) as `progType`, GPL-licensed (the helpers
 * used need no GPL, but it costs nothing). Throws BpfVerifierError with the log on refusal.
 */
export function bpfProgLoad(progType: number, instructions: Uint8Array, name = ""): number {
  const license = new TextEncoder().encode("GPL\0");
  const log = new Uint8Array(64 * 1024);
  const { attr, view } = newAttr();
  view.setUint32(0, progType, true);
  view.setUint32(4, instructions.length / 8, true);
  view.setBigUint64(8, address(instructions), true);
  view.setBigUint64(16, address(license), true);
  view.setUint32(24, 1, true); // log_level
  view.setUint32(28, log.length, true);
  view.setBigUint64(32, address(log), true);
  if (name) attr.set(new TextEncoder().encode(name.slice(0, 15)), 48);
  try {
    return bpf(BPF_PROG_LOAD, attr, "bpf(BPF_PROG_LOAD)");
  } catch (e) {
    if (!(e instanceof ErrnoError)) throw e;
    const end = log.indexOf(0);
    throw new BpfVerifierError(e, new TextDecoder().decode(log.subarray(0, end < 0 ? 0 : end)));
  }
}

/** What BPF_PROG_TEST_RUN returned. */
export interface BpfTestRun {
  /** The program's return value (XDP_PASS 2, XDP_TX 3...). */
  retval: number;
  /** The packet as the program left it. */
  data: Uint8Array;
  /** Mean run time per repetition, ns. */
  durationNs: number;
}

/**
 * BPF_PROG_TEST_RUN: runs program `fd` on a copy of `packet`, `repeat` times; `context` is the
 * program's context as given (for tc programs a `struct __sk_buff` with, say, its tstamp).
 */
export function bpfProgTestRun(
  fd: number,
  packet: Uint8Array,
  repeat = 1,
  context: Uint8Array | null = null,
): BpfTestRun {
  const input = packet.slice();
  const output = new Uint8Array(Math.max(256, packet.length + 256));
  const { attr, view } = newAttr();
  view.setUint32(0, fd, true);
  view.setUint32(8, input.length, true);
  view.setUint32(12, output.length, true);
  view.setBigUint64(16, address(input), true);
  view.setBigUint64(24, address(output), true);
  view.setUint32(32, repeat, true);
  if (context !== null) {
    view.setUint32(40, context.length, true);
    view.setBigUint64(48, address(context), true);
  }
  bpf(BPF_PROG_TEST_RUN, attr, "bpf(BPF_PROG_TEST_RUN)");
  return {
    retval: view.getInt32(4, true),
    data: output.slice(0, view.getUint32(12, true)),
    durationNs: view.getUint32(36, true),
  };
}

/** XDP attach modes of a link: 0 lets the kernel choose (native when the driver has it). */
export const XdpAttachMode = { auto: 0, generic: 2, native: 4 } as const;

/**
 * BPF_LINK_CREATE: attaches XDP program `progFd` to interface `ifindex`; returns the link's
 * descriptor (closing it detaches the program). EBUSY: another XDP program is attached.
 */
export function bpfXdpLinkCreate(progFd: number, ifindex: number, mode: number): number {
  const { view, attr } = newAttr();
  view.setUint32(0, progFd, true);
  view.setUint32(4, ifindex, true);
  view.setUint32(8, BPF_XDP_ATTACH, true);
  view.setUint32(12, mode, true);
  return bpf(BPF_LINK_CREATE, attr, "bpf(BPF_LINK_CREATE)");
}

/**
 * BPF_LINK_CREATE: attaches SCHED_CLS program `progFd` to the tcx ingress hook of interface
 * `ifindex` (after any programs already there); returns the link's descriptor.
 */
export function bpfTcxIngressLinkCreate(progFd: number, ifindex: number): number {
  const { view, attr } = newAttr();
  view.setUint32(0, progFd, true);
  view.setUint32(4, ifindex, true);
  view.setUint32(8, BPF_TCX_INGRESS, true);
  return bpf(BPF_LINK_CREATE, attr, "bpf(BPF_LINK_CREATE tcx)");
}

/** Closes a map, program or link descriptor (errors ignored: nothing to do about them). */
export function bpfClose(fd: number): void {
  symbols().close(fd);
}

/** if_nametoindex: the interface's index, or 0 when there is no such interface. */
export function interfaceIndex(name: string): number {
  return symbols().if_nametoindex(new TextEncoder().encode(`${name}\0`));
}
