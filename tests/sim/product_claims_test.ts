import { productScenarios } from "../../src/sim/catalog.ts";
import { registerScenarioTests } from "./scenario_suite.ts";

/** Scenarios tempus's engine does not pass yet, with the figures measured (see report). */
const KNOWN_FAILING: Record<string, string> = {
  // Measured 2026-11-24 (engine 34dc2d1): max offset 6.53 ms at ~40 000 s (limit 5 ms, the
  // "few milliseconds over the Internet" claim), RMS 1.46 ms (limit 2 ms). The excursion
  // comes during the 8 h of down-direction congestion (4 ms·Exp extra delay): the estimate
  // follows the congested samples to about -4 ms before the quiet hours pull it back.
  // Measured 2026-11-24 (engine 15aca1a): max offset 7.14 ms (limit 5 ms), RMS 1.25 ms. The
  // selected server (192.168.123.1) goes silent at 86 400 s but stays selected until
  // 95 334 s: for 2.5 h the clock follows its extrapolated data through the daily 1 ppm
  // temperature swing and drifts to 4.3 ms before 192.168.123.2 takes over. The 50 ms
  // falseticker is rejected throughout. At poll 10 the reach register empties only after
  // 8 missed polls (~8200 s), so chrony's rules would likely behave alike: a limit of the
  // algorithm more than a bug, unless replacement/reselection should come sooner.
  "P7-pool / check_sync": "dead selected server followed for 8900 s; max 7.14 ms > 5 ms",
  "P5-realistic / check_sync": "max offset 6.53 ms > 5 ms under one-way congestion",
};

registerScenarioTests(productScenarios(), KNOWN_FAILING);
