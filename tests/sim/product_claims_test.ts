import { productScenarios } from "../../src/sim/catalog.ts";
import { registerScenarioTests } from "./scenario_suite.ts";

/** Scenarios tempus's engine does not pass yet, with the figures measured (see report). */
const KNOWN_FAILING: Record<string, string> = {
  // Measured 2026-11-24 (after the overdue-update rule in selection.ts): max offset 5.47 ms
  // at ~38 000 s (limit 5 ms, the "few milliseconds over the Internet" claim), RMS 1.50 ms
  // (limit 2 ms); seeds 2-8: 4.2-6.7 ms, 4 of 7 over 5 ms. The excursion comes during the 8 h
  // of one-way (down) congestion, 4 ms·Exp extra delay: the delay-weighted regression still
  // follows the congested samples, whose offsets are biased by half their extra delay, and
  // the jitter-asymmetry correction engages only once the window is mostly congested.
  // 2026-12-05, with the rate-change test (regress.ts): 5.87 ms, RMS 1.63 ms; seeds 2-8: 6 of
  // 7 fail (docs/accuracy.md).
  "P5-realistic / check_sync": "max offset 5.87 ms > 5 ms under one-way congestion",
};

registerScenarioTests(productScenarios(), KNOWN_FAILING);
