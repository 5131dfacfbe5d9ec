import { optionScenarios } from "../../src/sim/catalog.ts";
import { registerScenarioTests } from "./scenario_suite.ts";

/** Scenarios tempus's engine does not pass yet, with the figures measured (see report). */
const KNOWN_FAILING: Record<string, string> = {
  // Measured 2026-11-24 (engine 15aca1a), 128 records/s: synchronised by 0.26 s (step at
  // 0.216 s, frequency within 1e-5 at 0.26 s), then at 14.766-14.805 s the frequency error
  // jumps to 1.04e-5..1.50e-5 for ~40 ms (limit 1e-5) while polling 128 times a second
  // (2510 requests in 20 s); the offset stays below 4e-7 s. Sync time 14.81 s > 1.016 s.
  // Just before, the regression window collapses from 64 samples (14.70 s, runs 29) to 20
  // (14.74 s) and 10 (14.76 s, ~0.08 s of data): residual frequency +15 ppm, skew 40 ppm,
  // and the update moves the clock's rate to +1.5e-5.
  "101-poll -7 / check_sync": "freq error 1.5e-5 for 40 ms at 14.77 s",
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
