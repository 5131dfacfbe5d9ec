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

interface CommandEntry {
  summary: string;
  load: () => Promise<CommandRunner>;
}

const MONITOR_COMMANDS = [
  "tracking",
  "sources",
  "sourcestats",
  "selectdata",
  "activity",
  "ntpdata",
  "serverstats",
  "clients",
  "makestep",
  "burst",
  "online",
  "offline",
  "onoffline",
  "settime",
  "manual",
  "waitsync",
  "rtcdata",
  "trimrtc",
  "writertc",
  "reselect",
  "refresh",
  "dump",
  "cyclelogs",
  "shutdown",
  "sourcename",
  "add",
  "delete",
  "allow",
  "deny",
  "cmdallow",
  "cmddeny",
  "accheck",
  "cmdaccheck",
  "local",
  "maxupdateskew",
  "reselectdist",
  "smoothing",
  "smoothtime",
  "authdata",
  "dfreq",
  "doffset",
  "minpoll",
  "maxpoll",
  "maxdelay",
  "maxdelayratio",
  "maxdelaydevratio",
  "minstratum",
  "polltarget",
  "reset",
  "reload",
  "rekey",
];

const COMMANDS: Record<string, CommandEntry> = {
  daemon: {
    summary: "run the time service (chronyd's job)",
    load: async () => (await import("./daemon.ts")).run,
  },
  sync: {
    summary: "one-shot: measure several servers and step or slew the clock (boot-time job)",
    load: async () => (await import("./sync.ts")).run,
  },
  query: {
    summary: "measure one server and print what it says; never touches the clock",
    load: async () => (await import("./query.ts")).run,
  },
  config: {
    summary: "config check FILE: validate a chrony.conf or tempus.toml and print it",
    load: async () => (await import("./config_check.ts")).run,
  },
  permissions: {
    summary: "permissions COMMAND [ARGS]: the Deno permission flags the launcher grants it",
    load: async () => (await import("../launch/permissions.ts")).run,
  },
};

for (const name of MONITOR_COMMANDS) {
  COMMANDS[name] = {
    summary: "monitoring/control over chrony's command protocol (like chronyc)",
    load: async () => {
      const runMonitor = (await import("./monitor.ts")).runMonitor;
      return (args: string[]) => runMonitor(name, args);
    },
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
  const entry = COMMANDS[command];
  if (entry === undefined) {
    console.error(`tempus: unknown command '${command}' (try tempus --help)`);
    return 2;
  }
  try {
    const runner = await entry.load();
    return await runner(rest);
  } catch (error) {
    // A command must print its own clear error; this is the last line of defence.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`tempus ${command}: ${message}`);
    return 1;
  }
}
