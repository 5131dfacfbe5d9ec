/**
 * Directories that carry access control: the run directory holding the Unix command socket
 * (whose permissions are the only thing between a local user and `settime`) and the
 * pidfile's directory. As chronyd does (`UTI_CreateDirAndParents`, `UTI_CheckDirPermissions`):
 * missing parents are created 0755, the directory itself with a restricted mode and owned by
 * the daemon's user; an existing directory is accepted only when it is a directory, grants
 * nothing beyond the allowed mode and belongs to that user and group.
 *
 * @module
 */
import { bestEffort, errorMessage } from "../base/errors.ts";
import { statOrNull } from "./files.ts";

/** A numeric owner: the user (and primary group) the daemon runs as. */
export interface Owner {
  /** User id. */
  uid: number;
  /** Group id. */
  gid: number;
}

/** The owner of the current process (real ids; tempus is never set-uid). */
export function currentOwner(): Owner {
  return { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/** The directory part of a file path ("/" for a file in the root, "." without a slash). */
export function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

function createOne(path: string, mode: number, owner: Owner | null): void {
  try {
    const st = Deno.statSync(path);
    if (st.isDirectory) return;
    throw new Error(`${path} is not a directory`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  try {
    Deno.mkdirSync(path, { mode }); // the umask may only take bits away
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return; // raced with another creator
    throw new Error(`Could not create directory ${path}: ${errorMessage(error)}`);
  }
  if (owner === null) return;
  const me = currentOwner();
  if (me.uid === owner.uid && me.gid === owner.gid) return;
  try {
    Deno.chownSync(path, owner.uid, owner.gid);
  } catch (error) {
    bestEffort(() => Deno.removeSync(path)); // never leave it behind with the wrong owner
    throw new Error(`Could not change ownership of ${path}: ${errorMessage(error)}`);
  }
}

/**
 * Creates `dir` if missing: its missing parents 0755 (owned by the caller), then `dir`
 * itself with `mode` (less the umask), owned by `owner` when given. An existing `dir` is left
 * as it is: check it with `privateDirProblem`. Throws an Error with a clear message.
 */
export function ensurePrivateDir(dir: string, mode: number, owner: Owner | null): void {
  if (dir === "." || dir === "/") return;
  if (statOrNull(dir)?.isDirectory) return;
  const absolute = dir.startsWith("/");
  const parts = dir.split("/").filter((p) => p !== "");
  let path = absolute ? "" : ".";
  for (let i = 0; i < parts.length; i++) {
    path = `${path}/${parts[i]}`;
    const last = i === parts.length - 1;
    // Under the launcher's permission sandbox only `dir` is granted, not its ancestors:
    // an ancestor that cannot be looked at is taken to exist (mkdir below it says if not).
    if (!last && notCapable(() => Deno.statSync(path))) continue;
    createOne(path, last ? mode : 0o755, last ? owner : null);
  }
}

function notCapable(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotCapable;
  }
}

/**
 * Why `dir` must not be trusted with a socket or pidfile, or null when it is fine: it must
 * exist, be a directory, grant nothing outside `allowed` (e.g. 0o770: nothing to others) and
 * belong to `owner`'s uid and gid. The messages are chronyd's.
 */
export function privateDirProblem(dir: string, allowed: number, owner: Owner): string | null {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(dir);
  } catch (error) {
    return `Could not access ${dir}: ${errorMessage(error)}`;
  }
  if (!st.isDirectory) return `${dir} is not a directory`;
  const mode = st.mode ?? 0;
  if ((mode & 0o777 & ~allowed) !== 0) {
    return `Wrong permissions on ${dir} (${octal(mode & 0o777)}; at most ${octal(allowed)} ` +
      `allowed: others must not reach it)`;
  }
  if (st.uid !== owner.uid) return `Wrong owner of ${dir} (UID ${st.uid} != ${owner.uid})`;
  if (st.gid !== owner.gid) return `Wrong owner of ${dir} (GID ${st.gid} != ${owner.gid})`;
  return null;
}
