import { basicScenarios } from "../../src/sim/catalog.ts";
import { registerScenarioTests } from "./scenario_suite.ts";

/** Scenarios tempus's engine does not pass yet, with the figures measured (see report). */
const KNOWN_FAILING: Record<string, string> = {
  // Measured 2026-11-24 (engine 34dc2d1): sync 1725 s (chrony: 1500-1550), max offset 14.5 s
  // after 1550 s. After the +100 s external step at 150 s the source becomes unselectable
  // ("no selectable sources" at 200.8 s, "Jitter of 192.168.123.1 exceeds maxjitter" at
  // 395 s) and is reselected only at 523.9 s, so the 100 s slew (at maxslewrate) starts
  // ~190 s later than for the -100 s step, which reselects at 330.5 s and syncs at 1531 s.
  "005-externalstep +100 / check_sync": "sync 1725 s; slew starts at 524 s, not ~330 s",
};

registerScenarioTests(basicScenarios(), KNOWN_FAILING);
