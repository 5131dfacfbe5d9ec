/**
 * The command-line entry: dispatches `tempus <command>` to one module per command family.
 * Each command module exports `run(args): Promise<number>` returning the exit code; modules
 * are imported lazily so `tempus query` never loads the daemon.
 *
 * @module
 */
import { VERSION } from "../version.ts";

/** A command module's entry point: takes the arguments after the command name. */
export type CommandRunner = (args: string[]) => Promise<number>;

/** The chronyc-style commands (monitor.ts). */
const MONITOR_COMMANDS = (
  "tracking sources sourcestats selectdata activity ntpdata serverstats clients makestep " +
  "burst online offline onoffline settime manual waitsync rtcdata trimrtc writertc reselect " +
  "refresh dump cyclelogs shutdown sourcename add delete allow deny cmdallow cmddeny " +
  "accheck cmdaccheck local maxupdateskew reselectdist smoothing smoothtime authdata dfreq " +
  "doffset minpoll maxpoll maxdelay maxdelayratio maxdelaydevratio minstratum polltarget " +
  "reset reload rekey"
).split(" ");

/** Each command's lazily loaded entry point (the top-level help is `usage`). */
const COMMANDS: Record<string, () => Promise<CommandRunner>> = {
  daemon: async () => (await import("./daemon.ts")).run,
  sync: async () => (await import("./sync.ts")).run,
  query: async () => (await import("./query.ts")).run,
  config: async () => (await import("./config_check.ts")).run,
  metrics: async () => (await import("./metrics.ts")).run,
  plot: async () => (await import("./plot.ts")).run,
  replay: async () => (await import("./replay.ts")).run,
  now: async () => (await import("./now.ts")).run,
  permissions: async () => (await import("../launch/permissions.ts")).run,
};

for (const name of MONITOR_COMMANDS) {
  COMMANDS[name] = async () => {
    const runMonitor = (await import("./monitor.ts")).runMonitor;
    return (args: string[]) => runMonitor(name, args);
  };
}

/** The top-level help text. */
export function usage(): string {
  return [
    `tempus ${VERSION}: network time daemon and client`,
    "",
    "Usage: tempus <command> [options]",
    "",
    "  daemon  [-f FILE] [-x] [-d] [-q|-Q] [-s] [-u USER]   run the time service",
    "  sync    [SERVER...] [--step|--slew|--dry-run] [--json]   one-shot sync at boot",
    "  query   SERVER[:PORT] [--json]                        measure one server",
    "  config  check FILE                                    validate a config file",
    "  metrics [-h HOST|SOCKET]                              Prometheus metrics, once",
    "  now     [--file PATH] [--json]                        earliest <= true time <= latest",
    "  plot    [LOGDIR] [-o OUT.svg]                         history as SVG from the logs",
    "  replay  LOGDIR [-f CONFIG]                            the engine's decisions on recorded samples",
    "  permissions COMMAND [ARGS]    the Deno permission flags the launcher runs it with",
    "  tracking | sources [-v] | sourcestats [-v] | selectdata | activity | ntpdata",
    "  serverstats | clients | makestep | burst | online | offline | onoffline",
    "  settime TIME | manual on|off|reset|list|delete N | waitsync | rtcdata | trimrtc",
    "      [-h HOST|SOCKET] [-p PORT] [-c] [-n] [--json]      chronyc-compatible client",
    "",
    "  --version   print the version     --help   this text (or `tempus <command> --help`)",
  ].join("\n");
}

/** Runs the command line; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(usage());
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-V" || command === "version") {
    console.log(`tempus ${VERSION}`);
    return 0;
  }
  const load = COMMANDS[command];
  if (load === undefined) {
    console.error(`tempus: unknown command '${command}' (try tempus --help)`);
    return 2;
  }
  try {
    const runner = await load();
    return await runner(rest);
  } catch (error) {
    // A command must print its own clear error; this is the last line of defence.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`tempus ${command}: ${message}`);
    return 1;
  }
}
