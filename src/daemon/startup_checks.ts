/**
 * The checks start-up makes on a parsed configuration before anything runs, shared by
 * `tempus daemon` and `tempus config check` so that a configuration the check passes is one
 * the daemon accepts: the keyfile and every key a source names, and the run user (`-u` over
 * `user`, which must exist). It also warns about a command socket directory that already
 * exists with permissions the daemon will refuse.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import { type LoadedKeys, loadKeyFile } from "./keys.ts";
import { broadcastKeyErrors, broadcastPortProblems } from "./broadcast_checks.ts";
import { resolveRunUser, type RunUser } from "./run_user.ts";
import { xdpServerErrors } from "./xdp_service.ts";
import { dirOf } from "../io/private_dir.ts";
import { statOrNull } from "../io/files.ts";
import { SOCKET_DIR_MODE } from "../cmdmon/server_io.ts";

/** What start-up found. */
export interface StartupCheck extends Pick<LoadedKeys, "keys"> {
  /** The user the daemon runs as (null only when `errors` says why). */
  runUser: RunUser | null;
  /** Reasons to refuse to start (`config check` exits 1 on any). */
  errors: string[];
  /** Things the operator should know. */
  warnings: string[];
}

/** Runs the start-up checks on `config` with `-u` given as `cliUser` (null: none). */
export function checkStartup(
  config: Config,
  cliUser: string | null,
  deps: { passwd?: string; readText?: (path: string) => string } = {},
): StartupCheck {
  const keys = loadKeyFile(config, deps.readText);
  const errors = [...keys.errors];
  const warnings = [...keys.warnings];
  // broadcast, multicast, manycast (broadcast_checks.ts)
  const broadcast = broadcastPortProblems(config);
  errors.push(...broadcastKeyErrors(config, keys.keys), ...broadcast.errors);
  errors.push(...xdpServerErrors(config));
  warnings.push(...broadcast.warnings);
  const user = resolveRunUser(cliUser, config.user, deps.passwd);
  if (!user.ok) errors.push(user.error);
  const runUser = user.ok ? user.user : null;
  if (config.cmdSocket !== null) {
    // Only what the daemon refuses whoever runs it: bits for others. The owner is not
    // compared here, since `config check` may run as another user than the daemon will.
    const dir = dirOf(config.cmdSocket);
    const mode = statOrNull(dir)?.mode ?? null; // missing: created with the right mode at start-up
    if (mode !== null && (mode & 0o777 & ~SOCKET_DIR_MODE) !== 0) {
      warnings.push(
        `${dir} is reachable by others (0${(mode & 0o777).toString(8)}): the daemon will ` +
          `disable command socket ${config.cmdSocket}`,
      );
    }
  }
  return { keys: keys.keys, runUser, errors, warnings };
}
