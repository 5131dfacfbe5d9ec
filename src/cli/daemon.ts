/**
 * `tempus daemon`: parses chronyd-style options, starts the daemon and waits for it to end.
 *
 * @module
 */
import { DAEMON_USAGE, parseDaemonArgs } from "../daemon/args.ts";
import { startDaemon, StartupError } from "../daemon/daemon.ts";

/** Runs the daemon; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  let options;
  try {
    options = parseDaemonArgs(args);
  } catch (error) {
    console.error(`tempus daemon: ${error instanceof Error ? error.message : String(error)}`);
    console.error("Try 'tempus daemon --help'.");
    return 2;
  }
  if (options.help) {
    console.log(DAEMON_USAGE);
    return 0;
  }
  try {
    const daemon = await startDaemon(options);
    const code = await daemon.finished;
    return code;
  } catch (error) {
    if (error instanceof StartupError) {
      console.error(`tempus daemon: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
