/**
 * Starts the configured reference clocks: one engine source per `refclock` line and its
 * driver feeding it. A device that cannot be opened is fatal, as in chronyd.
 *
 * @module
 */
import type { RefclockConfig } from "../config/model.ts";
import { defaultRefId, parseShmParameter } from "../config/refclock_options.ts";
import type { LogPort } from "../base/ports.ts";
import type { EngineCore } from "../core/engine/core.ts";
import type { RefclockDriverHandle } from "./driver.ts";
import { openShmRefclock } from "./shm_driver.ts";
import { openSockRefclock } from "./sock_driver.ts";

/** Adds every refclock to `engine` and opens its driver; returns the drivers to close. */
export function openRefclocks(
  refclocks: readonly RefclockConfig[],
  engine: EngineCore,
  log: LogPort,
): RefclockDriverHandle[] {
  const handles: RefclockDriverHandle[] = [];
  try {
    refclocks.forEach((rc, i) => {
      const refId = rc.refId ?? defaultRefId(rc.driver, i);
      const id = engine.addRefclock(rc, refId);
      const sink = (raw: bigint, offset: number, leap: number) =>
        engine.refclockSample(id, raw, offset, leap);
      try {
        if (rc.driver === "SHM") {
          const p = parseShmParameter(rc.parameter);
          if (typeof p === "string") throw new Error(p);
          handles.push(openShmRefclock(p.unit, p.perm, rc.dpoll, sink, log));
        } else {
          handles.push(openSockRefclock(rc.parameter, sink, log));
        }
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
