/**
 * Wiring of the mode 6 (ntpq) responder: its access table (loopback, then the
 * mode6allow/mode6deny rules), and the snapshot of the engine it answers from (the served
 * time and reference state, smoothing included, and the sources' reports).
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import { MODE6_LOOPBACK_RULES } from "../config/directives_mode6.ts";
import type { Instant } from "../base/time.ts";
import { AccessTable } from "../core/access.ts";
import type { Engine } from "../core/engine/engine.ts";
import { Mode6Responder } from "../core/mode6/responder.ts";
import { associationIdOf, type Mode6Snapshot } from "../core/mode6/variables.ts";
import type { ReferenceState } from "../core/types.ts";
import { VERSION } from "../version.ts";

/** What the snapshot reads besides the engine's reports. */
export interface Mode6Sources {
  /** The engine (tracking, sources, sourcestats, ntpdata). */
  engine: Engine;
  /** The time served now (smoothed where smoothtime is on). */
  servedNow: () => Instant;
  /** The reference state the NTP server announces (smoothed where smoothtime is on). */
  reference: () => ReferenceState;
}

/** Reads everything a mode 6 answer may show, once. */
export function mode6Snapshot(s: Mode6Sources): Mode6Snapshot {
  const { engine } = s;
  const stdDevs = new Map<number, number>();
  for (const st of engine.sourceStats()) stdDevs.set(st.id, st.stdDev);
  return {
    now: s.servedNow(),
    reference: s.reference(),
    tracking: engine.tracking(),
    peers: engine.sources().map((source) => ({
      associationId: associationIdOf(source.id),
      source,
      ntp: engine.ntpData(source.address),
      stdDev: stdDevs.get(source.id) ?? null,
    })),
    version: `tempus ${VERSION}`,
    system: Deno.build.os,
    processor: Deno.build.arch,
  };
}

/**
 * The NTP server's mode 6 hook: answers ntpq from loopback and the mode6allow subnets with
 * the engine's state. Returns the fragments to send.
 */
export function mode6Control(
  config: Pick<Config, "mode6Access">,
  sources: Mode6Sources,
): (request: Uint8Array, from: { address: string }, rxTime: Instant) => Uint8Array[] {
  const { table } = AccessTable.fromRules([...MODE6_LOOPBACK_RULES, ...config.mode6Access ?? []]);
  const responder = new Mode6Responder({ access: table });
  return (request, from, rxTime) =>
    responder.respond(request, from, rxTime, () => mode6Snapshot(sources));
}
