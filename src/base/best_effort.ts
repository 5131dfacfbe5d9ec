/**
 * Clean-up steps whose failure changes nothing: closing a socket that may already be closed,
 * removing a file that may already be gone.
 *
 * @module
 */

/** Runs `step`, ignoring what it throws (the thing was already closed, gone or not ours). */
export function bestEffort(step: () => unknown): void {
  try {
    step();
  } catch {
    // already closed, already gone, or not ours any more
  }
}
