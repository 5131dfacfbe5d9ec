/**
 * The driftfile, in chrony's format so tempus and chronyd can share one: a single line
 * "%20.6f %20.6f\n" holding the frequency in ppm with CHRONY's sign (the negation of
 * tempus `freqPpm`, see src/core/time.ts) and the skew in ppm. Reading is tolerant: a
 * missing, empty or garbled file gives null and a warning, never an exception. Writing is
 * atomic (src/io/files.ts) through one fixed temporary name, so a crash never leaves a torn
 * file nor a growing pile of temporary ones; reading at start removes any left over.
 *
 * @module
 */
import { removeStaleTemps, writeFileAtomic } from "./files.ts";

/** Drift values in tempus's sign convention. */
export interface DriftValues {
  /** Frequency correction, ppm, tempus sense (> 0: clock made faster). */
  freqPpm: number;
  /** Skew (error bound of the frequency), ppm, >= 0. */
  skewPpm: number;
}

/** Result of reading a driftfile: values or null, and a warning when something was wrong. */
export interface DriftReadResult {
  /** The values, or null when there were none usable. */
  drift: DriftValues | null;
  /** Why the file was not used (null when it was read, or simply absent). */
  warning: string | null;
}

/** Largest |frequency| accepted from a driftfile, ppm (chrony's maxdrift default). */
export const MAX_DRIFT_FILE_PPM = 500000;

function fixed(value: number): string {
  return value.toFixed(6).padStart(20);
}

/** Formats values as chrony writes them: "%20.6f %20.6f\n" with chrony's frequency sign. */
export function formatDriftFile(values: DriftValues): string {
  const chronyFreq = values.freqPpm === 0 ? 0 : -values.freqPpm;
  return `${fixed(chronyFreq)} ${fixed(values.skewPpm)}\n`;
}

const NUMBER = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

/**
 * Parses driftfile text (chrony's sign) into tempus values. Returns an error message for
 * anything chrony's `fscanf("%lf%lf")` would not accept as two sane numbers.
 */
export function parseDriftFile(
  text: string,
): { ok: true; value: DriftValues } | { ok: false; error: string } {
  const fields = text.trim().split(/\s+/).filter((f) => f !== "");
  if (fields.length === 0) return { ok: false, error: "empty" };
  if (fields.length < 2) return { ok: false, error: "missing skew value" };
  if (!NUMBER.test(fields[0]) || !NUMBER.test(fields[1])) {
    return { ok: false, error: `not two numbers: '${text.slice(0, 60).trim()}'` };
  }
  const chronyFreq = Number(fields[0]);
  const skew = Number(fields[1]);
  if (!Number.isFinite(chronyFreq) || Math.abs(chronyFreq) > MAX_DRIFT_FILE_PPM) {
    return { ok: false, error: `frequency ${fields[0]} ppm out of range` };
  }
  if (!Number.isFinite(skew) || skew < 0) {
    return { ok: false, error: `skew ${fields[1]} ppm invalid` };
  }
  return { ok: true, value: { freqPpm: chronyFreq === 0 ? 0 : -chronyFreq, skewPpm: skew } };
}

/**
 * Reads a driftfile; never throws. A missing file is not worth a warning (first start).
 * Temporary files a crash left beside it are removed first (this runs once at start-up).
 */
export function readDriftFile(path: string): DriftReadResult {
  removeStaleTemps(path);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { drift: null, warning: null };
    const why = e instanceof Error ? e.message : String(e);
    return { drift: null, warning: `Could not read driftfile ${path}: ${why}` };
  }
  const r = parseDriftFile(text);
  if (!r.ok) {
    return {
      drift: null,
      warning: `Could not read valid frequency and skew from driftfile ${path} (${r.error})`,
    };
  }
  return { drift: r.value, warning: null };
}

/** Writes the driftfile atomically (chrony's format). Rejects on I/O errors. */
export function writeDriftFile(path: string, values: DriftValues): Promise<void> {
  return writeFileAtomic(path, formatDriftFile(values));
}
