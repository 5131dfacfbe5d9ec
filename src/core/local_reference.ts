/**
 * The local reference (chrony's `local` directive): when tempus serves its own clock to its
 * clients at a stratum of its own, because no source serves it well enough (chrony
 * reference.c is_local_reference_active).
 *
 * @module
 */
import type { LocalConfig } from "../config/model.ts";

/** Where the reference stands when asked whether the local reference serves. */
export interface LocalReferenceInput {
  /** Synchronised to a source. */
  synchronised: boolean;
  /** Root distance now (root delay / 2 + root dispersion), seconds. */
  rootDistance: number;
  /** Seconds since the last update (Infinity before the first). */
  sinceUpdate: number;
  /** Seconds since the reference became unsynchronised. */
  sinceUnsync: number;
}

/** The `local` settings and whether their `activate` threshold has been met. */
export class LocalReference {
  /** The settings, or null while the local reference is off. */
  config: LocalConfig | null;
  /** The root distance has been below `local activate` at least once. */
  #activated = false;

  /** From the configuration (null: off). */
  constructor(config: LocalConfig | null) {
    this.config = config;
  }

  /** A synchronised update with this root distance: `activate D` is met once it is below D. */
  noteSynchronisedUpdate(rootDistance: number): void {
    const activate = this.config?.activate ?? 0;
    if (activate > 0 && rootDistance < activate) this.#activated = true;
  }

  /**
   * True when the local reference is serving: enabled, activated (with `activate D`, only
   * once the root distance has been below D), and either synchronised with a root distance
   * above `distance` for `waitsynced` s since the last update, or unsynchronised for
   * `waitunsynced` s.
   */
  active(at: LocalReferenceInput): boolean {
    const local = this.config;
    if (local === null) return false;
    if (local.activate > 0 && !this.#activated) return false;
    if (!at.synchronised) return at.sinceUnsync >= local.waitUnsynced;
    if (at.rootDistance <= local.distance) return false;
    return at.sinceUpdate >= local.waitSynced;
  }
}
