/**
 * The registry of guest scenarios by name.
 *
 * @module
 */
import { driverScenario } from "./clock_driver.ts";
import { daemonScenario } from "./daemon_discipline.ts";
import { daemonRtcScenario } from "./daemon_rtc.ts";
import { daemonLeapScenario } from "./daemon_leap.ts";
import { leapScenario } from "./leap.ts";
import { rtcScenario } from "./rtc.ts";
import { refclockProbeScenario, refclockRtcScenario } from "./refclock_devices.ts";
import { syncScenario, syncSlewScenario } from "./sync_boot.ts";

/** A scenario measures something and returns the figures (JSON-serialisable). */
export type Scenario = () => Promise<Record<string, unknown>>;

/** Scenarios by name. */
export const SCENARIOS: Record<string, Scenario> = {
  hello: () => {
    return Promise.resolve({ uptime: Deno.readTextFileSync("/proc/uptime").split(" ")[0] });
  },
  driver: driverScenario,
  rtc: rtcScenario,
  leap: leapScenario,
  sync: syncScenario,
  sync_slew: syncSlewScenario,
  daemon: daemonScenario,
  daemon_rtc: daemonRtcScenario,
  daemon_leap: daemonLeapScenario,
  refclock_rtc: refclockRtcScenario,
  refclock_probe: refclockProbeScenario,
};
