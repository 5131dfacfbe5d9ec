/**
 * `tempus daemon`: builds the daemon (configuration, clock driver, engine, transport,
 * sources; src/daemon/build.ts), serves (NTP and command servers; serve.ts) and runs until
 * SIGTERM/SIGINT, `shutdown`, maxchange or a one-shot result (lifecycle.ts).
 *
 * Start-up order: configuration → logging → clock driver (refuses clock control without
 * CAP_SYS_TIME unless -x) → pidfile → driftfile → engine → client transport → sources → NTP
 * server → command servers → privilege drop → sd_notify READY=1. Shutdown writes the
 * driftfile atomically.
 *
 * @module
 */
import type { OneShotResult } from "../core/engine/engine.ts";
import { CAP_BPF, CAP_SYS_TIME } from "../../ffi/caps.ts";
import { applyRunUser } from "./run_user.ts";
import type { DaemonOptions } from "./args.ts";
import { buildDaemon, type DaemonParts, StartupError } from "./build.ts";
import { errorMessage } from "../base/errors.ts";
import { exitOnSignals, ExitRequest, runUntilExit } from "./lifecycle.ts";
import { serve, type Serving } from "./serve.ts";

export { loadDaemonConfig, StartupError } from "./build.ts";

/** A running daemon, for the CLI and for tests. */
export interface RunningDaemon
  extends
    Pick<DaemonParts, "config" | "engine">,
    Pick<Serving, "control" | "ntpServer" | "commandServer"> {
  /** Resolves with the exit code once the daemon has shut down. */
  finished: Promise<number>;
  /** Asks the daemon to shut down with `code`. */
  stop(code?: number): void;
}

/** Formats a one-shot result like chronyd: "System clock wrong by X seconds (...)". */
export function formatOneShot(result: OneShotResult): string {
  // chrony prints the NTP-convention offset (reference minus local): tempus's own sign.
  const what = result.action === "print" ? "ignored" : result.action;
  return `System clock wrong by ${result.offset.toFixed(6)} seconds (${what})`;
}

/** Starts the daemon; throws StartupError on a configuration or permission problem. */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const exit = new ExitRequest();
  const stopSignals = exitOnSignals(exit);
  try {
    return await buildAndServe(options, exit, stopSignals);
  } catch (error) {
    stopSignals();
    throw error;
  }
}

async function buildAndServe(
  options: DaemonOptions,
  exit: ExitRequest,
  stopSignals: () => void,
): Promise<RunningDaemon> {
  const parts = await buildDaemon(
    options,
    options.oneShot === null ? null : {
      action: options.oneShot === "print" ? "print" : "step",
      onResult: (result) => {
        console.log(formatOneShot(result));
        exit.request(0);
      },
    },
  );
  parts.engine.onFatal = (message) => {
    parts.log.log("error", message);
    exit.request(1);
  };
  const serving = await serve(parts, options, () => exit.request(0));

  try {
    // xdpserver: kernels that allow bpf(2) only with CAP_BPF need it for every map update.
    const keep = [
      ...(options.noClockControl ? [] : [CAP_SYS_TIME]),
      ...(serving.xdp ? [CAP_BPF] : []),
    ];
    const done = applyRunUser(parts.runUser, keep);
    if (done !== null) parts.log.log("info", done);
  } catch (error) {
    throw new StartupError(
      `Could not switch to user ${parts.runUser.name}: ${errorMessage(error)}`,
    );
  }

  return {
    config: parts.config,
    engine: parts.engine,
    ...serving,
    finished: runUntilExit(parts, serving, exit, stopSignals),
    stop: (code = 0) => exit.request(code),
  };
}
