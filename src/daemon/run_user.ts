/**
 * The user the daemon runs as, chronyd's rule: `-u USER` wins over the `user` directive;
 * without either the daemon stays the user it was started as. The user must exist (an
 * unknown name stops start-up and fails `config check`, as chronyd's "Could not get
 * user/group ID"). It owns the command socket's directory, and a daemon started as root
 * switches to it once its sockets are bound, keeping only CAP_SYS_TIME (none with -x).
 *
 * @module
 */
import { type Account, dropPrivileges, findAccount } from "../../ffi/privileges.ts";
import type { Owner } from "../io/private_dir.ts";
import { readTextOrNull } from "../io/files.ts";

/** The resolved run user. */
export interface RunUser extends Owner {
  /** User name (or the numeric uid when /etc/passwd does not name it). */
  name: string;
  /** Where it came from: `-u`, the `user` directive, or the starting process. */
  from: "-u" | "user" | "process";
}

/**
 * Resolves the run user from `-u` (`cliUser`) and the `user` directive (`configUser`), with
 * `process` the ids of the starting process. Returns an error message for an unknown user.
 */
export function resolveRunUser(
  cliUser: string | null,
  configUser: string | null,
  passwd: string = readTextOrNull("/etc/passwd") ?? "", // unreadable: every name unknown
  process: Owner = { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 },
): { ok: true; user: RunUser } | { ok: false; error: string } {
  const wanted = cliUser ?? configUser;
  if (wanted === null) {
    const account = findAccount(passwd, String(process.uid));
    return {
      ok: true,
      user: { name: account?.name ?? String(process.uid), ...process, from: "process" },
    };
  }
  const account: Account | null = findAccount(passwd, wanted);
  if (account === null || !Number.isInteger(account.uid) || !Number.isInteger(account.gid)) {
    return { ok: false, error: `Could not get user/group ID of ${wanted}` };
  }
  return {
    ok: true,
    user: { ...account, from: cliUser !== null ? "-u" : "user" },
  };
}

/** What `applyRunUser` needs from the system (injected by tests). */
export interface PrivilegeOps {
  /** The process's current ids. */
  current(): Owner;
  /** Switches to the user, keeping the given capabilities. */
  drop(name: string, keepCaps: number[]): void;
}

const REAL_OPS: PrivilegeOps = {
  current: () => ({ uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 }),
  drop: (name, keepCaps) => void dropPrivileges(name, keepCaps),
};

/**
 * Switches to `user` when the process runs as root and `user` is not root (chronyd's rule),
 * keeping `keepCaps`. Returns the line to log, or null when nothing was to be done. Throws an
 * Error when the switch is asked for but impossible (not root, or a failing call): a
 * configured user is never silently ignored.
 */
export function applyRunUser(
  user: RunUser,
  keepCaps: number[],
  ops: PrivilegeOps = REAL_OPS,
): string | null {
  const now = ops.current();
  if (now.uid === user.uid && now.gid === user.gid) return null;
  if (now.uid !== 0) {
    throw new Error(
      `cannot switch to user ${user.name} (uid ${user.uid}): not started as root (uid ${now.uid})`,
    );
  }
  if (user.uid === 0 && user.gid === 0) return null;
  ops.drop(user.name, keepCaps);
  return `Running as ${user.name} (uid ${user.uid})`;
}
