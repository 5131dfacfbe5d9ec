/**
 * The marker that starts each result line on the guest console (the host parses it).
 *
 * @module
 */

/** Prefix of a result line. */
export const RESULT_MARKER = "TEMPUS-VM-RESULT ";
