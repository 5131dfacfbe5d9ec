/**
 * The daemon's real-time clock service: the boot-time `-s` setting of the system clock
 * from the RTC (corrected by the drift learned in the rtcfile), and RTC tracking with
 * `rtcfile` (measure the RTC against the disciplined clock at update interrupts, keep the
 * model, write the rtcfile, trim on request). The decisions live in core/rtc_tracking.ts;
 * this module only moves readings in and actions out.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { ClockDriver, LogPort } from "../base/ports.ts";
import type { ControlResult } from "../core/control.ts";
import type { RtcReport } from "../core/reports.ts";
import type { ClockChangeEvent } from "../core/types.ts";
import type { Instant } from "../base/time.ts";
import { preInitDecision, RtcTracking } from "../core/rtc_tracking.ts";
import { parseRtcFile, type RtcCoefficients, serializeRtcFile } from "../core/rtc_file.ts";
import { openRtc, type RtcDevice } from "../clock/rtc.ts";
import { readTextOrNull, statOrNull, writeFileAtomic } from "../io/files.ts";

/** Reads the rtcfile's coefficients, or null (missing or unreadable, with a warning). */
export function readRtcCoefficients(path: string, log: LogPort): RtcCoefficients | null {
  const text = readTextOrNull(path);
  if (text === null) return null;
  const parsed = parseRtcFile(text);
  if (!parsed.ok) {
    log.log("warning", `Could not read RTC parameters from ${path} (${parsed.error.kind})`);
    return null;
  }
  return parsed.coefficients;
}

function mtimeOf(path: string | null): Instant | null {
  const mtime = path === null ? null : statOrNull(path)?.mtime ?? null;
  return mtime === null ? null : BigInt(mtime.getTime()) * 1_000_000n;
}

/**
 * `tempus daemon -s`: sets the system clock from the RTC, corrected by the rtcfile's drift,
 * when that differs by 1 s or more and is not before the driftfile's time. Without a usable
 * RTC, moves the clock forward to the driftfile's time if it is behind it (as chronyd does).
 * Returns a one-line description of what was done.
 */
export async function setClockFromRtc(
  config: Config,
  driver: ClockDriver,
  log: LogPort,
  openDevice: (path: string, utc: boolean) => RtcDevice = openRtc,
): Promise<string> {
  const driftMtime = mtimeOf(config.driftFile);
  let device: RtcDevice | null = null;
  try {
    device = openDevice(config.rtcDevice, config.rtcOnUtc);
  } catch (error) {
    log.log("warning", error instanceof Error ? error.message : String(error));
  }
  if (device === null) {
    const now = driver.readRawTime();
    if (driftMtime !== null && driftMtime > now) {
      const delta = Number(driftMtime - now) / 1e9;
      driver.stepBy(delta);
      return `System clock set from driftfile time (stepped by ${delta.toFixed(6)} seconds)`;
    }
    return "No RTC: system clock not set";
  }
  try {
    const atEdge = await device.waitForUpdate(1500);
    const rtcSeconds = device.readTime();
    const now = driver.readRawTime();
    const coefficients = config.rtcFile === null ? null : readRtcCoefficients(config.rtcFile, log);
    const decision = preInitDecision({
      rtcSeconds,
      atUpdateEdge: atEdge,
      coefficients,
      now,
      driftFileMtime: driftMtime,
    });
    if (!decision.step) {
      return decision.reason === "small"
        ? `System clock within 1 s of the RTC (offset ${decision.offset.toFixed(6)} s), not set`
        : "RTC time is before the driftfile's time: system clock not set";
    }
    driver.stepBy(decision.offset);
    return `System clock set from RTC (stepped by ${decision.offset.toFixed(6)} seconds, ` +
      `RTC error predicted ${decision.predictedError.toFixed(6)} s)`;
  } finally {
    device.close();
  }
}

/** What the RTC service needs from the running daemon. */
export interface RtcServiceDeps {
  /** The cooked clock. */
  cookedNow: () => Instant;
  /** True while synchronised (gates autotrim). */
  synchronised: () => boolean;
  /** Slews the system clock by `offset` (tempus sign) after the initial RTC samples. */
  slew: (offset: number) => void;
  /** Log. */
  log: LogPort;
}

/** RTC tracking against the disciplined clock (`rtcfile`). */
export class RtcService {
  readonly #device: RtcDevice;
  readonly #tracker: RtcTracking;
  readonly #path: string;
  readonly #deps: RtcServiceDeps;
  #running = true;
  #loop: Promise<void> = Promise.resolve();

  /** Opens the device and starts measuring. Throws when the RTC cannot be opened. */
  constructor(config: Config, deps: RtcServiceDeps, initial: boolean, device?: RtcDevice) {
    if (config.rtcFile === null) throw new Error("rtcfile not configured");
    this.#path = config.rtcFile;
    this.#deps = deps;
    this.#device = device ?? openRtc(config.rtcDevice, config.rtcOnUtc);
    this.#tracker = new RtcTracking({
      fileCoefficients: readRtcCoefficients(config.rtcFile, deps.log),
      initial,
      autoTrimThreshold: config.rtcAutoTrim,
    });
    this.#loop = this.#measure();
  }

  async #measure(): Promise<void> {
    while (this.#running) {
      const edge = await this.#device.waitForUpdate(2000).catch(() => false);
      if (!this.#running) break;
      if (edge) {
        const system = this.#deps.cookedNow();
        const rtc = this.#device.readTime();
        this.#handle(this.#tracker.addSample(rtc, system, this.#deps.synchronised()));
      }
      const period = this.#tracker.measurementPeriod();
      if (period > 1) await this.#sleep(period - 1);
    }
  }

  #sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, seconds * 1000);
      Deno.unrefTimer(timer);
    });
  }

  #handle(event: ReturnType<RtcTracking["addSample"]>): void {
    switch (event.kind) {
      case "initialTrim":
        if (event.offset !== null) this.#deps.slew(event.offset);
        break;
      case "relocked":
        void this.write();
        break;
      case "trim":
        this.#device.setTime(event.setRtcTo);
        this.#deps.log.log("info", `RTC trimmed to ${event.setRtcTo}`);
        break;
    }
  }

  /** Keeps the samples right across clock slews and steps. */
  applyClockChange(change: ClockChangeEvent): void {
    this.#tracker.applyClockChange(change);
  }

  /** `rtcdata`. */
  report(): RtcReport {
    return this.#tracker.report();
  }

  /** `writertc`: writes the rtcfile (atomically). */
  async write(): Promise<ControlResult> {
    const c = this.#tracker.coefficients();
    if (c === null) return { ok: false, status: "badrtcfile", message: "no RTC coefficients yet" };
    await writeFileAtomic(this.#path, serializeRtcFile(c));
    return { ok: true };
  }

  /** `trimrtc`. */
  trim(): ControlResult {
    const t = this.#tracker.trim(this.#deps.cookedNow());
    if (t !== null) {
      this.#device.setTime(t.setRtcTo);
      this.#deps.log.log("info", `RTC trimmed to ${t.setRtcTo}`);
    }
    return { ok: true };
  }

  /** Stops measuring, writes the rtcfile and closes the device. */
  async close(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.write().catch(() => {});
    this.#device.close();
  }
}
