import assert from "node:assert/strict";
import { formatRefclockLine, REFCLOCKS_BANNER } from "./log_format.ts";

// 2026-12-04 18:52:43.133808 UTC
const T = 1_796_410_363_133_808_000n;

Deno.test("refclocks.log lines are chronyd's, character for character", () => {
  // Lines as chronyd 4.3 wrote them for the same kind of samples.
  assert.equal(
    formatRefclockLine({
      time: T,
      refId: "GPS",
      count: null,
      leap: 0,
      rawOffset: 0,
      offset: 1.175e-7,
      dispersion: 1.945e-7,
    }),
    "2026-12-04 18:52:43.133808 GPS     - N -       -        1.175000e-07  1.945e-07",
  );
  assert.equal(
    formatRefclockLine({
      time: T,
      refId: "GPS",
      count: 3,
      leap: 0,
      rawOffset: 4.76e-7,
      offset: -2e-8,
      dispersion: 3e-8,
    }),
    "2026-12-04 18:52:43.133808 GPS     3 N 0  4.760000e-07 -2.000000e-08  3.000e-08",
  );
  assert.ok(REFCLOCKS_BANNER.endsWith("Refid  DP L P  Raw offset   Cooked offset      Disp."));
});
