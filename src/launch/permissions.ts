/**
 * The Deno permission sandbox of each tempus command: which files it may read and write,
 * which network endpoints, libraries, environment variables and system APIs it may use.
 * The launchers (`./tempus`, `dist/tempus`) run `tempus permissions COMMAND ARGS...` in a
 * read-only pre-stage (it may read files, nothing else), then run the command itself with
 * exactly the flags printed, never `-A`. For the daemon the paths come from its
 * configuration, so the pre-stage parses the configuration the daemon will load (recording
 * every file and directory the parser touches) and grants those plus the paths the
 * configuration names (daemon_grants.ts); the other commands' grants come from their
 * arguments (command_grants.ts); grants.ts renders them as flags.
 *
 * Deno cannot narrow a granted permission later (`Deno.permissions.revoke` of a path under a
 * global grant drops the whole grant), hence the two stages.
 *
 * Limits, as Deno 2.9 enforces them:
 * - FFI is granted for libc only, but libc can open any file or socket: the sandbox guards
 *   against a Deno-API mistake (a path or endpoint the configuration did not name), not
 *   against code that calls libc directly. The NTP client and server sockets are libc
 *   sockets (kernel timestamps), outside Deno's net permission.
 * - A Unix datagram reply needs net permission for the peer's socket path, and command
 *   clients bind random paths; so the daemon (see daemon_grants.ts) and the monitoring
 *   commands often get `--allow-net` without a scope.
 *
 * @module
 */
import { denoConfReader } from "../config/chrony_conf.ts";
import { NO_CLOCK_ENV } from "../cli/sync.ts";
import { denoFlags, denoHostFacts, emptyGrants, type Grants, type HostFacts } from "./grants.ts";
import { configCheckGrants, daemonGrants } from "./daemon_grants.ts";
import {
  clientGrants,
  monitorGrants,
  nowGrants,
  plotGrants,
  replayGrants,
} from "./command_grants.ts";

/** The grants of one tempus command line (the arguments after `tempus`). */
export function grantsFor(args: string[], host: HostFacts): Grants {
  const [command, ...rest] = args;
  switch (command) {
    case "daemon":
      return daemonGrants(rest, host);
    case "sync": {
      const g = clientGrants(rest, "pool.ntp.org");
      g.env.push(NO_CLOCK_ENV);
      return g;
    }
    case "query":
      return clientGrants(rest, null);
    case "config":
      return configCheckGrants(rest, host);
    case "now":
      return nowGrants(rest);
    case "plot":
      return plotGrants(rest);
    case "replay":
      return replayGrants(rest, host);
    case undefined:
    case "--help":
    case "-h":
    case "help":
    case "--version":
    case "-V":
    case "version":
    case "permissions":
      return emptyGrants();
    default:
      return monitorGrants(rest, host);
  }
}

/**
 * `tempus permissions COMMAND [ARGS...]`: prints the deno flags (one per line) the
 * launchers run that command line with. Run it with read permission only.
 */
export function run(args: string[]): Promise<number> {
  if (args.length === 0 || args[0] === "--help") {
    console.log(
      "Usage: tempus permissions COMMAND [ARGS...]\n\nPrints the Deno permission flags " +
        "(one per line) that the launcher grants `tempus COMMAND ARGS...`.",
    );
    return Promise.resolve(args.length === 0 ? 2 : 0);
  }
  try {
    const flags = denoFlags(grantsFor(args, denoHostFacts(denoConfReader())));
    if (flags.length) console.log(flags.join("\n"));
    return Promise.resolve(0);
  } catch (error) {
    console.error(`tempus permissions: ${error instanceof Error ? error.message : error}`);
    return Promise.resolve(1);
  }
}
