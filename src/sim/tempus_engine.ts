/**
 * The engine factory for tempus's own `Engine` (src/core/engine/engine.ts), driven unchanged by
 * the scenario runner.
 *
 * @module
 */
import { Engine } from "../core/engine/engine.ts";
import type { SimEngineFactory } from "./scenario.ts";
import type { SimNodeEngineFactory } from "./sim_node.ts";

/**
 * Clock precision reported to the engine when the config leaves it to measurement: the
 * simulated clock has nanosecond resolution and reading it takes no time, so chrony's
 * read-twice measurement would spin; this is what it would find.
 */
export const SIM_CLOCK_PRECISION = 1e-9;

/** Builds tempus's Engine over the simulator's ports. */
export const tempusEngine: SimEngineFactory = (config, deps, initialDrift): Engine =>
  new Engine(config, deps, initialDrift, { measurePrecision: () => SIM_CLOCK_PRECISION });

/** Builds tempus's Engine for a simulated host that also serves time. */
export const tempusNodeEngine: SimNodeEngineFactory = (config, deps): Engine =>
  new Engine(config, deps, null, { measurePrecision: () => SIM_CLOCK_PRECISION });

/** Both factories, as the scenario catalogue takes them. */
export const tempusEngines = { client: tempusEngine, node: tempusNodeEngine };
