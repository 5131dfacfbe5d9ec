/**
 * `tempus daemon`: parses chronyd-style options, goes to the background like chronyd (unless
 * -n, -d, -q, -Q or systemd's Type=notify), starts the daemon and waits for it to end.
 *
 * In the background the parent returns once the daemon is ready (exit 0) or has failed (its
 * exit code, with its error on stderr).
 *
 * @module
 */
import { DAEMON_USAGE, type DaemonOptions, parseDaemonArgs } from "../daemon/args.ts";
import { startDaemon } from "../daemon/daemon.ts";
import {
  detachSession,
  envOrUndefined,
  isBackgroundChild,
  signalReady,
  startInBackground,
  staysInForeground,
} from "../io/daemonize.ts";
import { currentLogPort } from "../io/logging.ts";
import { applyProcessOptions } from "../io/process_options.ts";
import { scheduleStartupPageRelease } from "../io/startup_pages.ts";
import { VERSION } from "../version.ts";
import { enableDenyFilter } from "../../ffi/seccomp.ts";

/** Runs the daemon; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  let options: DaemonOptions;
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
  if (options.version) {
    console.log(`tempus ${VERSION}`);
    return 0;
  }
  const child = isBackgroundChild();
  const foreground = staysInForeground({
    noFork: options.noFork,
    debugLevel: options.debugLevel,
    oneShot: options.oneShot,
    notifySocket: envOrUndefined("NOTIFY_SOCKET"),
    child,
  });
  if (!foreground) return await startInBackground();
  if (child) detachSession();
  try {
    // Before the daemon starts (and drops root): mlockall and SCHED_FIFO need privileges.
    const notes = applyProcessOptions(options);
    const daemon = await startDaemon(options);
    const log = currentLogPort("daemon");
    for (const note of notes) log.log(note.level, note.message);
    const cancelPageRelease = scheduleStartupPageRelease(log, options);
    void daemon.finished.then(cancelPageRelease, cancelPageRelease);
    if (options.filterLevel === 2 || options.filterLevel === -2) {
      // As chronyd: once started and privileges dropped; a failure stops the daemon.
      try {
        enableDenyFilter(options.filterLevel);
        log.log("info", `Loaded seccomp filter (level ${options.filterLevel})`);
      } catch (error) {
        const message = `Failed to load seccomp rules: ${(error as Error).message}`;
        log.log("error", message); // before the shutdown closes the log file
        console.error(`tempus daemon: ${message}`);
        daemon.stop(1);
        return await daemon.finished;
      }
    }
    if (child) signalReady();
    return await daemon.finished;
  } catch (error) {
    // A start-up failure (StartupError, or a setting that cannot be honoured): one clear
    // line, in the -l file too (stderr is not one of its sinks then).
    const message = error instanceof Error ? error.message : String(error);
    console.error(`tempus daemon: ${message}`);
    if (options.logFile !== null) currentLogPort("daemon").log("error", message);
    return 1;
  }
}
