import assert from "node:assert/strict";
import { libcAvailable } from "../../ffi/libc.ts";
import { openRtc } from "./rtc.ts";

const RTC_PATH = "/dev/rtc0";
let hasRtc = false;
try {
  hasRtc = libcAvailable() && Deno.statSync(RTC_PATH).isCharDevice === true;
} catch {
  hasRtc = false;
}
if (!hasRtc) console.log(`rtc_test: ${RTC_PATH} missing; the real-RTC read test is skipped`);

Deno.test({
  name: "openRtc on a missing device gives a clear error",
  ignore: !libcAvailable(),
  fn() {
    assert.throws(
      () => openRtc("/dev/tempus-no-such-rtc", true),
      /cannot open RTC \/dev\/tempus-no-such-rtc: no such RTC device \(ENOENT\)/,
    );
  },
});

Deno.test({
  name: "the real RTC reads a plausible time (read-only)",
  ignore: !hasRtc,
  fn() {
    const rtc = openRtc(RTC_PATH, true);
    try {
      const t = rtc.readTime();
      assert.ok(t > 946_684_800, `RTC says ${t}`); // after 2000-01-01
    } finally {
      rtc.close();
    }
  },
});
