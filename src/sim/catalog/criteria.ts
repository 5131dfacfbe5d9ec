/**
 * Pass criteria shared by the catalogued scenarios (chrony's check_source_selection,
 * check_packet_interval, check_log_messages and a few of tempus's), and small helpers for
 * writing scenarios.
 *
 * @module
 */
import type { PathSpec } from "../network.ts";
import type { ScenarioResult } from "../scenario.ts";
import type { Criterion } from "./entry.ts";

/** chrony's check_source_selection: "Selected source" logged, no "no majority"/"no selectable sources". */
export function sourceSelectionOk(r: ScenarioResult): string[] {
  const out: string[] = [];
  if ((r.logCounts["Selected source"] ?? 0) < 1) out.push('no "Selected source" logged');
  if ((r.logCounts["no majority"] ?? 0) > 0) out.push('"no majority" logged');
  if ((r.logCounts["no selectable sources"] ?? 0) > 0) out.push('"no selectable sources" logged');
  return out;
}

/** chrony's check_packet_interval for a client: sane mean and minimum outgoing interval. */
export function packetIntervalOk(r: ScenarioResult, servers = 1): string[] {
  const out: string[] = [];
  const minLimit = servers > 1 ? 0.18 : 1.8;
  if (!(r.transport.meanOutInterval >= 0.1)) {
    out.push(`mean outgoing interval ${r.transport.meanOutInterval}`);
  }
  if (!(r.transport.minOutInterval >= minLimit)) {
    out.push(`min outgoing interval ${r.transport.minOutInterval.toFixed(3)} s < ${minLimit}`);
  }
  return out;
}

/** chrony's check_log_messages: the count of lines containing `text` lies in [min, max]. */
export function logCountIn(r: ScenarioResult, text: string, min: number, max: number): string[] {
  const n = r.logCounts[text] ?? r.log.filter((l) => l.message.includes(text)).length;
  return n >= min && n <= max ? [] : [`"${text}" logged ${n} times, expected ${min}-${max}`];
}

/** Lines containing `text` logged at simulated seconds in [from, to). */
export function loggedBetween(r: ScenarioResult, text: string, from: number, to: number): number {
  return r.log.filter((l) => l.message.includes(text) && l.t >= from && l.t < to).length;
}

/** The clock was never stepped by the engine. */
export function neverStepped(r: ScenarioResult): string[] {
  return r.clockSteps === 0 ? [] : [`clock stepped ${r.clockSteps} times`];
}

/** A number of seconds for a figure: s, ms or µs with two or one decimals. */
export function formatSeconds(s: number): string {
  return Math.abs(s) >= 1
    ? `${s.toFixed(2)} s`
    : Math.abs(s) >= 1e-3
    ? `${(s * 1e3).toFixed(2)} ms`
    : `${(s * 1e6).toFixed(1)} µs`;
}

/** The criteria of a scenario that runs chrony's check_source_selection. */
export const SELECTION: Record<string, Criterion> = { "source selection": sourceSelectionOk };

/** A path with the same base delay and jitter (default 100 µs) each way. */
export function twoWay(delay: number, jitter = 1e-4): PathSpec {
  return { up: { base: delay, jitter }, down: { base: delay, jitter } };
}
