/**
 * Starts the configured reference clocks: one engine source per `refclock` line and its
 * driver feeding it. A device that cannot be opened, or a `lock` naming no refclock, is
 * fatal, as in chronyd.
 *
 * @module
 */
import type { Config, RefclockConfig } from "../config/model.ts";
import {
  checkRefclockLocks,
  defaultRefId,
  parseNmeaParameter,
  parsePhcParameter,
  parsePpsParameter,
  parseRtcParameter,
  parseShmParameter,
} from "../config/refclock_options.ts";
import type { LogPort } from "../base/ports.ts";
import type { EngineInputs } from "../core/engine/inputs.ts";
import { clockGettime } from "../../ffi/libc.ts";
import { PhcDevice } from "../../ffi/phc.ts";
import { PpsDevice } from "../../ffi/pps.ts";
import { openRtc } from "../clock/rtc.ts";
import { SerialPort } from "../../ffi/serial.ts";
import type { RefclockDriverHandle, RefclockSink } from "./driver.ts";
import { openNmeaRefclock } from "./nmea_driver.ts";
import { openPhcRefclock, phcDevicePath } from "./phc_driver.ts";
import { openPpsRefclock } from "./pps_driver.ts";
import { openRtcRefclock } from "./rtc_driver.ts";
import { openShmRefclock } from "./shm_driver.ts";
import { openSockRefclock } from "./sock_driver.ts";
import { taiOffsetTable } from "./tai_offset.ts";

function parsed<T>(p: T | string): T {
  if (typeof p === "string") throw new Error(p);
  return p;
}

/** Opens the driver of one refclock. */
function openDriver(
  rc: RefclockConfig,
  sink: RefclockSink,
  pulse: (raw: bigint, second: number) => void,
  log: LogPort,
): RefclockDriverHandle {
  switch (rc.driver) {
    case "SHM": {
      const p = parsed(parseShmParameter(rc.parameter));
      return openShmRefclock(p.unit, p.perm, rc.dpoll, sink, log);
    }
    case "SOCK":
      return openSockRefclock(rc.parameter, sink, log, pulse);
    case "PPS": {
      const p = parsed(parsePpsParameter(rc.parameter));
      const name = `refclock PPS ${p.device}`;
      return openPpsRefclock(() => PpsDevice.open(p.device, p.clear), rc.dpoll, pulse, log, name);
    }
    case "PHC": {
      const p = parsed(parsePhcParameter(rc.parameter));
      const path = phcDevicePath(p.device);
      const name = `refclock PHC ${path}`;
      return openPhcRefclock(() => PhcDevice.open(path, p.nocrossts), rc.dpoll, sink, log, name);
    }
    case "RTC": {
      const p = parsed(parseRtcParameter(rc.parameter));
      return openRtcRefclock(rc.dpoll, sink, log, `refclock RTC ${p.device}`, {
        open: () => openRtc(p.device, p.utc),
        now: () => clockGettime(0),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      });
    }
    case "NMEA": {
      const p = parsed(parseNmeaParameter(rc.parameter));
      return openNmeaRefclock(p.device, p.baud, sink, log, {
        open: (d, b) => SerialPort.open(d, b),
        now: () => clockGettime(0),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      });
    }
  }
}

/**
 * Adds every refclock to `engine` and opens its driver; returns the drivers to close.
 * `rawFromRealtime` puts the drivers' CLOCK_REALTIME stamps on the clock driver's raw scale.
 */
export function openRefclocks(
  refclocks: readonly RefclockConfig[],
  engine: EngineInputs,
  log: LogPort,
  config?: Pick<Config, "leapSecTz" | "leapSecList" | "rtcSync" | "rtcFile">,
  rawFromRealtime: (realtime: bigint) => bigint = (t) => t,
): RefclockDriverHandle[] {
  const problems = checkRefclockLocks(refclocks);
  if (config !== undefined && (config.rtcSync || config.rtcFile !== null)) {
    const rtc = refclocks.find((rc) => rc.driver === "RTC");
    if (rtc !== undefined) {
      problems.push(`refclock RTC (${rtc.origin}) cannot be used with rtcsync or rtcfile`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
  if (refclocks.some((rc) => rc.tai)) {
    const table = config === undefined ? null : taiOffsetTable(config);
    if (table === null) {
      log.log("warning", "refclock tai: no leapsectz/leapseclist, samples will be dropped");
    }
    engine.refclockTaiOffset = table;
  }
  const handles: RefclockDriverHandle[] = [];
  try {
    refclocks.forEach((rc, i) => {
      const refId = rc.refId ?? defaultRefId(rc.driver, i);
      const id = engine.addRefclock(rc, refId);
      // Drivers stamp with CLOCK_REALTIME; the engine's raw clock is the driver's (with -x
      // the virtual clock, which moves away from CLOCK_REALTIME as it is slewed).
      const sink = (realtime: bigint, offset: number, leap: number) =>
        engine.refclockSample(id, rawFromRealtime(realtime), offset, leap);
      const pulse = (realtime: bigint, second: number) =>
        engine.refclockPulse(id, rawFromRealtime(realtime), second);
      try {
        handles.push(openDriver(rc, sink, pulse, log));
      } catch (e) {
        throw new Error(`refclock ${rc.driver} ${rc.parameter} (${rc.origin}): ${String(e)}`);
      }
      log.log("info", `refclock ${rc.driver} ${rc.parameter} refid ${refId} started`);
    });
  } catch (e) {
    for (const h of handles) h.close();
    throw e;
  }
  return handles;
}
