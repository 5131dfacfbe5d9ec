/**
 * The simulator: virtual time, simulated clocks, networks and servers, and the scenario
 * runner that drives tempus's engine unchanged, with chrony's pass criteria.
 *
 * ```ts
 * import { allScenarios, evaluate, runEntry } from "./src/sim/mod.ts";
 * import { tempusEngines } from "./src/sim/tempus_engine.ts";
 * for (const entry of allScenarios()) console.log(entry.id, evaluate(entry, runEntry(entry, tempusEngines)));
 * ```
 *
 * @module
 */
export { SimRandom } from "./prng.ts";
export { VirtualTime } from "./virtual_time.ts";
export { type ClockSpec, SimClock, type TimedDelta } from "./sim_clock.ts";
export { SimTimers } from "./sim_timers.ts";
export {
  type CongestionWindow,
  type Direction,
  type DirectionSpec,
  type LinkWindows,
  type PathSpec,
  SimPath,
} from "./network.ts";
export { type ServerReply, type ServerSpec, SimServer } from "./sim_server.ts";
export { type SimResponder, SimTransport, type TransportStats } from "./sim_transport.ts";
export { type CapturedLine, LogCapture } from "./log_capture.ts";
export {
  checkSync,
  CHRONY_DEFAULT_LIMITS,
  computeSyncMetrics,
  recoveryTime,
  settleTime,
  type SyncLimits,
  type SyncMetrics,
  windowStats,
} from "./metrics.ts";
export {
  runScenario,
  type ScenarioAction,
  type ScenarioContext,
  type ScenarioResult,
  type ScenarioSpec,
  type SimClientEngine,
  type SimEngineDeps,
  type SimEngineFactory,
  type SimServerConfig,
} from "./scenario.ts";
export { SimNode, type SimNodeEngineFactory, type SimServingEngine } from "./sim_node.ts";
export { type NetworkResult, type NetworkSpec, runNetworkScenario } from "./network_scenario.ts";
export {
  allScenarios,
  basicScenarios,
  type CatalogEntry,
  evaluate,
  optionScenarios,
  productScenarios,
  runEntry,
} from "./catalog.ts";
export { summarize, TABLE_HEADER, tableNotes, tableRow } from "./table.ts";
