/**
 * chronyd's system call filter level 2 (`-F 2`, `-F -2`) through seccomp: the calls a time
 * daemon never needs (execve, execveat, fork, vfork, ptrace) are denied in every thread of
 * the process, everything else is allowed. A denied call kills the process (level 2) or
 * raises SIGSYS (level -2), as chronyd. The filter is a classic BPF program loaded with
 * seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC) after PR_SET_NO_NEW_PRIVS.
 * Linux x86-64 and aarch64. Level 1 (an allow-list) is not offered: the Deno runtime's
 * system calls vary with its version, so an allow-list would kill it in normal operation.
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";
import { lastErrno } from "./libc.ts";

const SYMBOLS = {
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  syscall3: { name: "syscall", parameters: ["i64", "i64", "i64", "buffer"], result: "i64" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;

function symbols(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;
/** Kill the whole process. */
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
/** Raise SIGSYS. */
export const SECCOMP_RET_TRAP = 0x00030000;
/** Let the call through. */
export const SECCOMP_RET_ALLOW = 0x7fff0000;
const X32_SYSCALL_BIT = 0x40000000;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_RET_K = 0x06;

/** Per architecture: audit arch, the seccomp syscall number, and the denied calls. */
interface ArchTable {
  audit: number;
  seccomp: number;
  denied: Record<string, number>;
}

const ARCHES: Partial<Record<typeof Deno.build.arch, ArchTable>> = {
  x86_64: {
    audit: 0xc000003e,
    seccomp: 317,
    denied: { execve: 59, execveat: 322, fork: 57, vfork: 58, ptrace: 101 },
  },
  aarch64: {
    audit: 0xc00000b7,
    seccomp: 277,
    denied: { execve: 221, execveat: 281, ptrace: 117 }, // no fork/vfork calls there
  },
};

/** One BPF instruction: { code, jt, jf, k }. */
export interface BpfInstruction {
  /** Operation. */
  code: number;
  /** Jump offset when true. */
  jt: number;
  /** Jump offset when false. */
  jf: number;
  /** Constant. */
  k: number;
}

/**
 * The filter program: wrong architecture or an x32 call → `deny`; a denied call number →
 * `deny`; anything else → allow.
 */
export function buildDenyFilter(audit: number, denied: number[], deny: number): BpfInstruction[] {
  // Layout: 0 ld arch; 1 jeq audit; 2 ld nr; 3 jge x32; 4.. jeq nr (one per call); allow; deny.
  const n = denied.length;
  const allowAt = 4 + n;
  const denyAt = allowAt + 1;
  const prog: BpfInstruction[] = [
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 4 },
    { code: BPF_JEQ_K, jt: 0, jf: denyAt - 2, k: audit },
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 0 },
    { code: BPF_JGE_K, jt: denyAt - 4, jf: 0, k: X32_SYSCALL_BIT },
  ];
  denied.forEach((nr, i) => prog.push({ code: BPF_JEQ_K, jt: denyAt - (5 + i), jf: 0, k: nr }));
  prog.push({ code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW });
  prog.push({ code: BPF_RET_K, jt: 0, jf: 0, k: deny });
  return prog;
}

/** Encodes a program as struct sock_filter[] (8 bytes each, little-endian). */
export function encodeFilter(prog: BpfInstruction[]): Uint8Array {
  const out = new Uint8Array(prog.length * 8);
  const v = new DataView(out.buffer);
  prog.forEach((ins, i) => {
    v.setUint16(i * 8, ins.code, true);
    v.setUint8(i * 8 + 2, ins.jt);
    v.setUint8(i * 8 + 3, ins.jf);
    v.setUint32(i * 8 + 4, ins.k >>> 0, true);
  });
  return out;
}

/** The names of the calls level 2 denies on this machine. */
export function deniedCalls(): string[] {
  return Object.keys(ARCHES[Deno.build.arch]?.denied ?? {});
}

/**
 * Loads chronyd's level-2 filter (`level` 2: kill, -2: SIGSYS) on every thread of this
 * process. Throws an Error for other levels or architectures, ErrnoError when the kernel
 * refuses. Irreversible.
 */
export function enableDenyFilter(level: 2 | -2): void {
  const arch = ARCHES[Deno.build.arch];
  if (Deno.build.os !== "linux" || arch === undefined) {
    throw new Error(`system call filter not available on ${Deno.build.os}/${Deno.build.arch}`);
  }
  const deny = level > 0 ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_TRAP;
  const filter = encodeFilter(buildDenyFilter(arch.audit, Object.values(arch.denied), deny));
  const fprog = new Uint8Array(16); // struct sock_fprog { unsigned short len; sock_filter *filter; }
  const view = new DataView(fprog.buffer);
  view.setUint16(0, filter.length / 8, true);
  view.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(filter))), true);
  const s = symbols();
  if (s.prctl(PR_SET_NO_NEW_PRIVS, 1n, 0n, 0n, 0n) < 0) {
    throw new ErrnoError("prctl(PR_SET_NO_NEW_PRIVS)", lastErrno());
  }
  const r = s.syscall3(
    BigInt(arch.seccomp),
    BigInt(SECCOMP_SET_MODE_FILTER),
    BigInt(SECCOMP_FILTER_FLAG_TSYNC),
    fprog,
  );
  if (r !== 0n) throw new ErrnoError("seccomp(SECCOMP_SET_MODE_FILTER)", lastErrno());
}
