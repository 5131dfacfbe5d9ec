/**
 * CAP_SYS_TIME detection: from /proc/self/status (CapEff), falling back to capget(2).
 *
 * @module
 */
import { capgetEffective } from "./libc.ts";

/** Capability number of CAP_BPF (Linux 5.8 and later). */
export const CAP_BPF = 39;

/** Capability number of CAP_SYS_TIME. */
export const CAP_SYS_TIME = 25;

/**
 * The effective capability set parsed from the text of /proc/<pid>/status ("CapEff:\t..."),
 * or null when the line is missing or malformed.
 */
export function parseCapEff(statusText: string): bigint | null {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  return match ? BigInt("0x" + match[1]) : null;
}

/** True when a capability set holds capability number `cap`. */
export function hasCapability(set: bigint, cap: number): boolean {
  return ((set >> BigInt(cap)) & 1n) === 1n;
}

/** True when this process may set the system clock (CAP_SYS_TIME is effective). */
export function hasCapSysTime(): boolean {
  let set: bigint | null = null;
  try {
    set = parseCapEff(Deno.readTextFileSync("/proc/self/status"));
  } catch {
    set = null;
  }
  if (set === null) {
    try {
      set = capgetEffective();
    } catch {
      return false;
    }
  }
  return hasCapability(set, CAP_SYS_TIME);
}
