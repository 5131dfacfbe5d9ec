import assert from "node:assert/strict";
import { cFormatFloat } from "./format_printf.ts";
import { formatInterval, formatOffset, formatPpm, printReport } from "./format_report.ts";

Deno.test("printf %f rounds like glibc: exact binary value, ties to even", () => {
  assert.equal(cFormatFloat(64.25, { precision: 1 }), "64.2");
  assert.equal(cFormatFloat(64.75, { precision: 1 }), "64.8");
  assert.equal(cFormatFloat(0.5, { precision: 0 }), "0");
  assert.equal(cFormatFloat(1.5, { precision: 0 }), "2");
  assert.equal(cFormatFloat(2.675, { precision: 2 }), "2.67"); // 2.67499999...
  assert.equal(cFormatFloat(-0.0001, { precision: 3 }), "-0.000");
  assert.equal(cFormatFloat(12.5, { precision: 3, plus: true, width: 10 }), "   +12.500");
  assert.equal(cFormatFloat(1e-9 * 119.2, { precision: 9 }), "0.000000119");
});

Deno.test("chronyc units: offsets, intervals, ppm", () => {
  assert.equal(formatOffset(0.00012, true), " +120us");
  assert.equal(formatOffset(-0.0019, true), "-1900us");
  assert.equal(formatOffset(0.031, false), "  31ms");
  assert.equal(formatOffset(5e-9, false), "   5ns");
  assert.equal(formatOffset(12.3, true), " +12.3s");
  assert.equal(formatOffset(5000, false), " 5000s");
  assert.equal(formatInterval(35), "  35");
  assert.equal(formatInterval(1500), " 25m");
  assert.equal(formatInterval(40000), " 11h");
  assert.equal(formatInterval(400000), "  4d");
  assert.equal(formatInterval(0xffffffff), "   -");
  assert.equal(formatPpm(-0.021, true), "    -0.021");
  assert.equal(formatPpm(123456, false), "    123456");
});

Deno.test("print_report: text and CSV forms of tracking-style lines", () => {
  const fmt = "System time     : %.9O of NTP time\nFrequency       : %.3F\nLeap : %L\n";
  assert.equal(
    printReport(fmt, [0.000012345, -12.5, 0], false),
    "System time     : 0.000012345 seconds slow of NTP time\n" +
      "Frequency       : 12.500 ppm slow\nLeap : Normal\n",
  );
  assert.equal(
    printReport(fmt, [-0.5, 3, 3], false).split("\n")[1],
    "Frequency       : 3.000 ppm fast",
  );
  assert.equal(printReport(fmt, [0.000012345, -12.5, 0], true), "0.000012345,-12.500,Normal\n");
  assert.equal(
    printReport("%R %T\n", [0x7f000001, 1795514400_250_000_000n], false),
    "7F000001 Tue Nov 24 10:00:00 2026\n",
  );
  assert.equal(
    printReport("%R %T\n", [0x7f000001, 1795514400_250_000_000n], true),
    "7F000001,1795514400.250000000\n",
  );
  assert.equal(printReport("%.3b %.4b %B\n", [7, 10, 0], false), "111 1010 No\n");
});
