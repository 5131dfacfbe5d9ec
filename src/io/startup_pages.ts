/**
 * When the daemon gives back the pages it touched only while starting
 * (ffi/page_release.ts): once, a few seconds after start-up, when the configuration has
 * been read, the sockets opened and the first exchanges sent, so that what the running
 * daemon needs has been touched again or soon will be. Not with -m: locked memory is meant
 * to stay resident. A failure is logged and changes nothing else.
 *
 * @module
 */
import { type PageRelease, releaseCleanFilePages } from "../../ffi/page_release.ts";
import type { LogPort } from "../base/ports.ts";
import { errorMessage } from "../base/errors.ts";

/** Milliseconds after start-up at which the start-up pages are given back. */
export const STARTUP_PAGE_RELEASE_DELAY_MS = 3000;

/**
 * Schedules the release (a timer that does not keep the process alive); returns a function
 * that cancels it if it has not run. `release` is the mechanism (tests pass their own).
 */
export function scheduleStartupPageRelease(
  log: LogPort,
  options: { lockMemory: boolean; delayMs?: number; release?: () => PageRelease },
): () => void {
  if (options.lockMemory) return () => {};
  const release = options.release ?? releaseCleanFilePages;
  const timer = setTimeout(() => {
    try {
      const done = release();
      log.log(
        "debug",
        `Released ${(done.releasedKb / 1024).toFixed(1)} MB of start-up pages ` +
          `(${done.mappings} read-only file mappings)`,
      );
    } catch (error) {
      log.log("warning", `Could not release start-up pages: ${errorMessage(error)}`);
    }
  }, options.delayMs ?? STARTUP_PAGE_RELEASE_DELAY_MS);
  Deno.unrefTimer(timer);
  return () => clearTimeout(timer);
}
