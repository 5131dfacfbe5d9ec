/**
 * The scenario catalogue: chrony's published simulation tests (test/simulation, with their
 * pass thresholds from test.common and each script) and tempus's own product claims as
 * scenarios. Tests and the accuracy table both run from here, so the figures in
 * docs/accuracy.md are the figures the tests assert. The scenarios live by group in
 * src/sim/catalog/; this module gathers them.
 *
 * @module
 */
import { basicScenarios } from "./catalog/chrony_basic.ts";
import { clockOptionScenarios } from "./catalog/chrony_clock_options.ts";
import { sourceOptionScenarios } from "./catalog/chrony_source_options.ts";
import type { CatalogEntry } from "./catalog/entry.ts";
import { productScenarios } from "./catalog/product.ts";

export {
  type CatalogEntry,
  type Criterion,
  type CriterionResult,
  type Engines,
  evaluate,
  runEntry,
} from "./catalog/entry.ts";
export {
  formatSeconds,
  logCountIn,
  loggedBetween,
  neverStepped,
  packetIntervalOk,
  SELECTION,
  sourceSelectionOk,
  twoWay,
} from "./catalog/criteria.ts";
export { basicScenarios, clockOptionScenarios, productScenarios, sourceOptionScenarios };

/** 101-202: chrony's option scenarios. */
export function optionScenarios(): CatalogEntry[] {
  return [...clockOptionScenarios(), ...sourceOptionScenarios()];
}

/** Every catalogued scenario. */
export function allScenarios(): CatalogEntry[] {
  return [...basicScenarios(), ...optionScenarios(), ...productScenarios()];
}
