/**
 * A catalogued scenario, how it runs and how its run is judged: check_sync (or its expected
 * failure) plus the named criteria of chrony's script.
 *
 * @module
 */
import {
  runScenario,
  type ScenarioResult,
  type ScenarioSpec,
  type SimEngineFactory,
} from "../scenario.ts";
import { type NetworkSpec, runNetworkScenario } from "../network_scenario.ts";
import type { SimNodeEngineFactory } from "../sim_node.ts";

// The simulator types an entry refers to, so the catalogue documents on its own.
export type { NetworkSpec, ScenarioResult, ScenarioSpec, SimEngineFactory, SimNodeEngineFactory };
export type { PathSpec } from "../network.ts";

/** A pass criterion: returns what failed (empty: pass). */
export type Criterion = (r: ScenarioResult) => string[];

/** The outcome of one criterion on one run. */
export interface CriterionResult {
  /** "check_sync", "must not sync" or the criterion's name. */
  name: string;
  /** What failed (empty: pass). */
  failures: string[];
}

/** One catalogued scenario. */
export interface CatalogEntry {
  /** Identifier, e.g. "001-defaults" or "003-largefreqoffset +5e-2". */
  id: string;
  /** What it models. */
  title: string;
  /** The scenario (for a network scenario: its name and duration; `network` runs). */
  spec: ScenarioSpec;
  /** A layered network of engines instead of one client (chrony's 002). */
  network?: NetworkSpec;
  /** True: check_sync must pass (default). False: it must fail (the clock must not sync). */
  expectSync?: boolean;
  /** False: chrony's script does not call check_sync for this scenario (default true). */
  checkSync?: boolean;
  /** Named criteria beyond check_sync (chrony's other checks); each returns failures. */
  criteria?: Record<string, Criterion>;
  /** Criteria chrony's script expects to fail here ("These checks are expected to fail"). */
  mustFail?: string[];
  /** A measured figure to print beside the table (product claims). */
  figure?: (r: ScenarioResult) => string;
}

/** The engine factories a catalogue run needs. */
export interface Engines {
  /** A client engine over the simulator's ports. */
  client: SimEngineFactory;
  /** An engine for a host that also serves time. */
  node: SimNodeEngineFactory;
}

/** Runs one catalogued scenario. */
export function runEntry(entry: CatalogEntry, engines: Engines): ScenarioResult {
  return entry.network
    ? runNetworkScenario(entry.network, engines.node)
    : runScenario(entry.spec, engines.client);
}

/** The verdict on one run: check_sync (or its expected failure) plus each criterion. */
export function evaluate(entry: CatalogEntry, r: ScenarioResult): CriterionResult[] {
  const out: CriterionResult[] = entry.checkSync === false ? [] : entry.expectSync === false
    ? [{
      name: "must not sync",
      failures: r.pass ? ["check_sync passed but this scenario must not synchronise"] : [],
    }]
    : [{ name: "check_sync", failures: r.failures }];
  for (const [name, check] of Object.entries(entry.criteria ?? {})) {
    const failures = check(r);
    if (entry.mustFail?.includes(name)) {
      out.push({
        name: `${name} must fail`,
        failures: failures.length > 0 ? [] : [`"${name}" passed but must fail here`],
      });
    } else {
      out.push({ name, failures });
    }
  }
  return out;
}
