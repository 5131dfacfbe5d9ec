import { optionScenarios } from "../../src/sim/catalog.ts";
import { registerScenarioTests } from "./scenario_suite.ts";

/** Scenarios tempus's engine does not pass yet, with the figures measured (see report). */
const KNOWN_FAILING: Record<string, string> = {
  // The engine logs "Can't synchronise: no selectable sources (1 unreachable sources)" at
  // 4389 s, when the reach register of the only source empties after the link is lost.
  // chrony's 117 requires no such line (check_source_selection), although chrony's own
  // stale rule (an unreachable source whose newest sample is older than the oldest sample
  // of the reachable sources, here none) reads as if it would log it too: to be settled.
  "117-fallbackdrift / source selection": '"no selectable sources" logged at 4389 s',
  // Measured 2026-11-24 (engine 15aca1a): sync 137 s (chrony: 140-260). Warm-up requests go
  // out at 0.3, 66.4, 133.4 s and the real ones 2 s later; the source is selected at
  // 135.25 s on the third real sample, so presend costs only the 2 s warm-up delay here.
  "114-presend delay 0.0001 / check_sync": "sync 137 s < 140 s",
  // As in 126: "Can't synchronise: no selectable sources (0 unreachable sources)" at 226.9 s,
  // before the first selection at 711.4 s (sync 714 s, within 710-720).
  "127-filter / source selection": '"no selectable sources" logged at 226.9 s before selection',
  // The engine logs "Can't synchronise: no selectable sources (0 unreachable sources)" at
  // 453.6 s, before any source was selected (first "Selected source" at 711.6 s; sync 715 s
  // within 700-730). chrony's 126 requires no such line.
  "126-burst / source selection": '"no selectable sources" logged at 453.6 s before selection',
};

registerScenarioTests(optionScenarios(), KNOWN_FAILING);
