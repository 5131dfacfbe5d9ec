/**
 * Small helpers for errors: the message of whatever was thrown, and clean-up steps whose
 * failure changes nothing (closing a socket that may already be closed, removing a file that
 * may already be gone).
 *
 * @module
 */

/** The message of a thrown value (an Error's message, anything else as a string). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs `step`, ignoring what it throws (the thing was already closed, gone or not ours). */
export function bestEffort(step: () => unknown): void {
  try {
    step();
  } catch {
    // already closed, already gone, or not ours any more
  }
}
