/**
 * The daemon's lifecycle: the exit request (shutdown command, SIGTERM/SIGINT, maxchange, a
 * one-shot result), SIGHUP's log reopening, sd_notify READY=1, and the orderly shutdown
 * that writes the driftfile atomically and closes everything that was opened.
 *
 * @module
 */
import { releasePidFile } from "../io/pidfile.ts";
import { writeDriftFile } from "../io/driftfile.ts";
import { sdNotify } from "../io/sd_notify.ts";
import type { DaemonParts } from "./build.ts";
import { errorMessage } from "../base/errors.ts";
import type { Serving } from "./serve.ts";

/** A request to exit with a code; only the first one counts. */
export class ExitRequest {
  /** Resolves with the code of the first request. */
  readonly requested: Promise<number>;
  #resolve: (code: number) => void = () => {};
  #made = false;

  /** A request nobody made yet. */
  constructor() {
    this.requested = new Promise<number>((r) => this.#resolve = r);
  }

  /** Asks the daemon to exit with `code` (later requests are ignored). */
  request(code = 0): void {
    if (this.#made) return;
    this.#made = true;
    this.#resolve(code);
  }
}

/**
 * Makes SIGTERM and SIGINT request an exit from now on, so that one arriving while the daemon
 * is still being built ends it in order (pidfile, dump, driftfile) rather than killing it;
 * returns the function that stops listening.
 */
export function exitOnSignals(exit: ExitRequest): () => void {
  const onTerm = () => exit.request(0);
  const signals = ["SIGTERM", "SIGINT"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, onTerm);
  return () => {
    for (const signal of signals) Deno.removeSignalListener(signal, onTerm);
  };
}

/**
 * Runs the daemon until the exit request: reopens logs on SIGHUP, tells systemd it is ready,
 * then stops listening for signals (`stopSignals`, from exitOnSignals) and shuts down.
 * Resolves with the exit code once everything is closed.
 */
export async function runUntilExit(
  parts: DaemonParts,
  serving: Serving,
  exit: ExitRequest,
  stopSignals: () => void,
): Promise<number> {
  const onHup = () => void serving.control.cycleLogs(); // as chronyc cyclelogs
  Deno.addSignalListener("SIGHUP", onHup);
  void sdNotify("READY=1");
  const code = await exit.requested;
  stopSignals();
  Deno.removeSignalListener("SIGHUP", onHup);
  await shutdown(parts, serving);
  return code;
}

/** Stops everything in order; the driftfile is written once, atomically. */
async function shutdown(parts: DaemonParts, serving: Serving): Promise<void> {
  const { engine, config, log } = parts;
  // As chronyd: the pidfile goes first, so a waiting init script sees the exit at once.
  if (parts.pidFile !== null) releasePidFile(parts.pidFile);
  log.log("info", `${parts.logName} exiting`);
  serving.maintenance.dumpAtExit(); // chronyd dumps every source at exit when dumpdir is set
  parts.sources.close();
  parts.tempComp?.stop();
  for (const r of parts.refclocks) r.close();
  engine.onDriftUpdate = null; // written once below, not also from the final flush
  engine.stop();
  if (config.driftFile !== null) {
    try {
      await writeDriftFile(config.driftFile, engine.reference.driftValues());
    } catch (error) {
      log.log("warning", `Could not write driftfile: ${errorMessage(error)}`);
    }
  }
  await parts.rtc?.close();
  serving.broadcastSender?.stop(); // broadcast (broadcast_service.ts)
  await serving.manycast?.close(); // manycastclient (manycast_service.ts)
  serving.xdp?.close(); // xdpserver (xdp_service.ts)
  await serving.ntpServer?.close();
  serving.ntsKe?.close();
  await serving.commandServer?.close();
  await serving.ops?.close(); // ops: metrics, error-bound page, recording
  serving.smoothing?.close();
  parts.transport.close?.();
  parts.timers.cancelAll();
  await parts.logging.close();
}
