/**
 * Dropping root after the sockets are bound (`tempus daemon -u USER`), keeping only the
 * capabilities the daemon still needs (CAP_SYS_TIME to discipline the clock): prctl
 * PR_SET_KEEPCAPS, setgroups, setgid, setuid, then capset on the calling (main JS) thread,
 * which is the thread that makes every clock call.
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";
import { lastErrno } from "./libc.ts";

const SYMBOLS = {
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  setgroups: { parameters: ["usize", "pointer"], result: "i32" },
  setgid: { parameters: ["u32"], result: "i32" },
  setuid: { parameters: ["u32"], result: "i32" },
  capset: { parameters: ["buffer", "buffer"], result: "i32" },
  getuid: { parameters: [], result: "u32" },
} as const;

const PR_SET_KEEPCAPS = 8;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

let symbols: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;
function lib() {
  if (symbols === null) symbols = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return symbols;
}

/** A user account from /etc/passwd. */
export interface Account {
  /** User name. */
  name: string;
  /** Numeric user id. */
  uid: number;
  /** Primary group id. */
  gid: number;
}

/** Finds `user` (name or numeric uid) in passwd-format text; null if absent. */
export function findAccount(passwdText: string, user: string): Account | null {
  for (const line of passwdText.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 4) continue;
    const [name, , uid, gid] = fields;
    if (name === user || uid === user) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  return null;
}

/** The capability bit set encoded as capset's two 32-bit words. */
export function capabilityWords(caps: number[]): [number, number] {
  let low = 0;
  let high = 0;
  for (const cap of caps) {
    if (cap < 32) low |= 1 << cap;
    else high |= 1 << (cap - 32);
  }
  return [low >>> 0, high >>> 0];
}

function check(result: number, what: string): void {
  if (result !== 0) throw new ErrnoError(what, lastErrno());
}

/**
 * Switches the process to `user`, keeping `keepCaps` (capability numbers) effective and
 * permitted on the calling thread. Throws on an unknown user or a failing call.
 */
export function dropPrivileges(user: string, keepCaps: number[]): Account {
  const account = findAccount(Deno.readTextFileSync("/etc/passwd"), user);
  if (account === null) throw new Error(`unknown user '${user}'`);
  const c = lib();
  check(c.prctl(PR_SET_KEEPCAPS, 1n, 0n, 0n, 0n), "prctl(PR_SET_KEEPCAPS)");
  check(c.setgroups(0n, null), "setgroups");
  check(c.setgid(account.gid), "setgid");
  check(c.setuid(account.uid), "setuid");
  const header = new Uint8Array(8);
  const headerView = new DataView(header.buffer);
  headerView.setUint32(0, LINUX_CAPABILITY_VERSION_3, true);
  headerView.setInt32(4, 0, true);
  const data = new Uint8Array(24);
  const dataView = new DataView(data.buffer);
  const [low, high] = capabilityWords(keepCaps);
  // struct __user_cap_data_struct[2]: effective, permitted, inheritable
  dataView.setUint32(0, low, true);
  dataView.setUint32(4, low, true);
  dataView.setUint32(12, high, true);
  dataView.setUint32(16, high, true);
  check(c.capset(header, data), "capset");
  return account;
}
