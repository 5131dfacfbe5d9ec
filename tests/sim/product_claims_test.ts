import { productScenarios } from "../../src/sim/catalog.ts";
import { registerScenarioTests } from "./scenario_suite.ts";

/** Scenarios tempus's engine does not pass yet, with the figures measured (see report). */
const KNOWN_FAILING: Record<string, string> = {
  // Measured 2026-11-24 (engine 34dc2d1): max offset 6.53 ms at ~40 000 s (limit 5 ms, the
  // "few milliseconds over the Internet" claim), RMS 1.46 ms (limit 2 ms). The excursion
  // comes during the 8 h of down-direction congestion (4 ms·Exp extra delay): the estimate
  // follows the congested samples to about -4 ms before the quiet hours pull it back.
  "P5-realistic / check_sync": "max offset 6.53 ms > 5 ms under one-way congestion",
};

registerScenarioTests(productScenarios(), KNOWN_FAILING);
