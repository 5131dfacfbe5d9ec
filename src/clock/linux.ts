/**
 * The Linux system clock driver (chrony's sys_linux.c + sys_timex.c without the offset
 * register): frequency through tick + freq for a ±100 000 ppm range, steps with
 * ADJ_SETOFFSET, the kernel PLL switched off, leap bits, esterror/maxerror, and the
 * single-shot adjtime slew used by `tempus sync --slew`.
 *
 * Frequencies are in the tempus sense: ppm > 0 makes the clock run faster.
 *
 * @module
 */
import type { ClockDriver, LeapAction } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";
import { hasCapSysTime } from "../../ffi/caps.ts";
import { ErrnoError } from "../../ffi/errno.ts";
import {
  ADJ_ESTERROR,
  ADJ_FREQUENCY,
  ADJ_MAXERROR,
  ADJ_NANO,
  ADJ_OFFSET_SINGLESHOT,
  ADJ_SETOFFSET,
  ADJ_STATUS,
  ADJ_TICK,
  FREQ_SCALE,
  MOD_OFFSET,
  MOD_STATUS,
  MOD_TAI,
  STA_DEL,
  STA_INS,
  STA_PLL,
  STA_UNSYNC,
} from "../../ffi/timex.ts";
import { CLOCK_REALTIME } from "../../ffi/timespec.ts";
import { type KernelClockOps, libcKernelClock } from "./kernel_ops.ts";

/** The message printed instead of EPERM when the process may not set the clock. */
export const CLOCK_PERMISSION_MESSAGE =
  "tempus needs root or CAP_SYS_TIME to set the clock; use --dry-run to only measure";

/**
 * Returns CLOCK_PERMISSION_MESSAGE when this process lacks CAP_SYS_TIME (so callers print
 * it rather than a bare EPERM), or null when it may set the clock.
 */
export function clockPermissionError(): string | null {
  return hasCapSysTime() ? null : CLOCK_PERMISSION_MESSAGE;
}

/** esterror/maxerror are capped here, as chrony's MAX_SYNC_ERROR (seconds). */
export const MAX_SYNC_ERROR = 16.0;

/** Options of LinuxClockDriver. */
export interface LinuxClockOptions {
  /** The kernel (default: the real one through ffi). Tests inject a fake. */
  ops?: KernelClockOps;
  /**
   * Clear STA_UNSYNC when synchronised (only with rtcsync: it lets the kernel copy the
   * system time to the RTC every 11 minutes). Default false, as chrony on Linux.
   */
  clearUnsync?: boolean;
  /** USER_HZ of the kernel's tick field (100 on every Linux architecture tempus targets). */
  userHz?: number;
}

/** The tick/freq pair that realises a frequency, and the frequency it really gives. */
export interface TickFreq {
  /** Value for timex.tick (µs per USER_HZ tick). */
  tick: number;
  /** Value for timex.freq (ppm scaled by 2^16). */
  freq: number;
  /** The frequency realised, ppm (tempus sense). */
  appliedPpm: number;
}

/**
 * Splits a frequency (ppm, > 0 = faster) into tick and freq the way chrony's sys_linux.c
 * does: whole ticks of 1e6/nominalTick ppm go to `tick`, the rest to `freq`. When the
 * required tick is next to `currentDeltaTick` the current tick is kept (freq covers up to
 * ±1.5 ticks), which avoids thrashing between two ticks.
 */
export function frequencyToTickFreq(
  ppm: number,
  nominalTick: number,
  currentDeltaTick: number,
): TickFreq & { deltaTick: number } {
  const ppmPerTick = 1e6 / nominalTick;
  const maxTickBias = Math.floor(nominalTick / 10);
  let deltaTick = Math.round(ppm / ppmPerTick);
  if (Math.abs(deltaTick - currentDeltaTick) === 1) deltaTick = currentDeltaTick;
  deltaTick = Math.max(-maxTickBias, Math.min(maxTickBias, deltaTick));
  const freq = Math.round((ppm - deltaTick * ppmPerTick) * FREQ_SCALE);
  return {
    tick: nominalTick + deltaTick,
    freq,
    deltaTick,
    appliedPpm: deltaTick * ppmPerTick + freq / FREQ_SCALE,
  };
}

/** The frequency (ppm, > 0 = faster) a kernel tick/freq pair realises. */
export function tickFreqToFrequency(tick: number, freq: number, nominalTick: number): number {
  return (tick - nominalTick) * (1e6 / nominalTick) + freq / FREQ_SCALE;
}

/** A ClockDriver over the Linux kernel's adjtimex/clock_settime. */
export class LinuxClockDriver implements ClockDriver {
  /** Driver name for logs. */
  readonly name = "linux";
  /** Largest |frequency| settable: 10% of the nominal tick, 100 000 ppm at USER_HZ 100. */
  readonly maxFrequencyPpm: number;
  /** The kernel inserts and deletes leap seconds itself (STA_INS/STA_DEL). */
  readonly canSystemLeap = true;
  /** Nominal tick, µs (10 000 at USER_HZ 100). */
  readonly nominalTick: number;

  #ops: KernelClockOps;
  #clearUnsync: boolean;
  #status = STA_UNSYNC;
  #deltaTick = 0;

  /**
   * Takes over the kernel clock: cancels any pending adjtime() slew, clears the kernel
   * PLL's offset and switches the PLL off, marks the clock unsynchronised. The current
   * frequency is kept. Throws ErrnoError (EPERM without CAP_SYS_TIME).
   */
  constructor(options: LinuxClockOptions = {}) {
    this.#ops = options.ops ?? libcKernelClock;
    this.#clearUnsync = options.clearUnsync ?? false;
    const hz = options.userHz ?? 100;
    this.nominalTick = Math.round(1e6 / hz);
    this.maxFrequencyPpm = 1e6 * Math.floor(this.nominalTick / 10) / this.nominalTick;

    this.#ops.adjtimex({ modes: ADJ_OFFSET_SINGLESHOT, offset: 0 });
    this.#ops.adjtimex({ modes: MOD_OFFSET | MOD_STATUS, offset: 0, status: STA_PLL | STA_UNSYNC });
    this.#ops.adjtimex({ modes: MOD_STATUS, status: this.#status });
    const now = this.#ops.adjtimex({ modes: 0 }).timex;
    this.#deltaTick = now.tick - this.nominalTick;
  }

  /** CLOCK_REALTIME now. */
  readRawTime(): Instant {
    return this.#ops.clockGettime(CLOCK_REALTIME);
  }

  /** The kernel's current frequency from tick + freq, ppm (> 0 = faster). */
  readFrequencyPpm(): number {
    const { timex } = this.#ops.adjtimex({ modes: 0 });
    this.#deltaTick = timex.tick - this.nominalTick;
    return tickFreqToFrequency(timex.tick, timex.freq, this.nominalTick);
  }

  /** Sets tick + freq in one call; returns the frequency realised (clamped, quantised). */
  setFrequencyPpm(ppm: number): number {
    const limit = this.maxFrequencyPpm;
    const wanted = Math.max(-limit, Math.min(limit, ppm));
    const split = frequencyToTickFreq(wanted, this.nominalTick, this.#deltaTick);
    this.#ops.adjtimex({ modes: ADJ_TICK | ADJ_FREQUENCY, tick: split.tick, freq: split.freq });
    this.#deltaTick = split.deltaTick;
    return split.appliedPpm;
  }

  /**
   * Steps the clock by `deltaSeconds` with ADJ_SETOFFSET|ADJ_NANO; falls back to
   * clock_settime when the kernel does not know ADJ_SETOFFSET (EINVAL/ENOSYS).
   */
  stepBy(deltaSeconds: number): void {
    const ns = BigInt(Math.round(deltaSeconds * 1e9));
    let sec = ns / 1_000_000_000n;
    let nsec = ns % 1_000_000_000n;
    if (nsec < 0n) {
      nsec += 1_000_000_000n;
      sec -= 1n;
    }
    try {
      this.#ops.adjtimex({
        modes: ADJ_SETOFFSET | ADJ_NANO,
        timeSec: Number(sec),
        timeUsec: Number(nsec),
      });
    } catch (e) {
      if (!(e instanceof ErrnoError) || (e.code !== "EINVAL" && e.code !== "ENOSYS")) throw e;
      const now = this.#ops.clockGettime(CLOCK_REALTIME);
      this.#ops.clockSettime(CLOCK_REALTIME, now + ns);
    }
  }

  /** Arms STA_INS/STA_DEL (or clears both); sets the TAI offset too when given (> 0). */
  setLeap(action: LeapAction, taiOffset?: number): void {
    let status = this.#status & ~(STA_INS | STA_DEL);
    if (action === "insert") status |= STA_INS;
    else if (action === "delete") status |= STA_DEL;
    this.#status = status;
    let modes = MOD_STATUS;
    let constant = 0;
    if (taiOffset !== undefined && taiOffset > 0) {
      modes |= MOD_TAI;
      constant = Math.round(taiOffset);
    }
    this.#ops.adjtimex({ modes, status, constant });
  }

  /**
   * Sets esterror/maxerror (capped at 16 s) and the status. STA_UNSYNC is cleared only
   * when synchronised with a maxerror under 16 s and the driver was made with clearUnsync.
   */
  setSyncStatus(synchronised: boolean, estErrorSeconds: number, maxErrorSeconds: number): void {
    let est = estErrorSeconds;
    let max = maxErrorSeconds;
    let synced = synchronised;
    if (synced) {
      est = Math.min(est, MAX_SYNC_ERROR);
      if (max >= MAX_SYNC_ERROR) {
        max = MAX_SYNC_ERROR;
        synced = false;
      }
    } else {
      est = max = MAX_SYNC_ERROR;
    }
    if (!this.#clearUnsync) synced = false;
    this.#status = synced ? this.#status & ~STA_UNSYNC : this.#status | STA_UNSYNC;
    this.#ops.adjtimex({
      modes: ADJ_STATUS | ADJ_ESTERROR | ADJ_MAXERROR,
      status: this.#status,
      esterror: Math.round(Math.max(0, est) * 1e6),
      maxerror: Math.round(Math.max(0, max) * 1e6),
    });
  }

  /**
   * Starts an adjtime()-style slew of `offsetSeconds` (the kernel slews it at 500 ppm,
   * replacing any pending one). Returns the offset that was still pending, seconds.
   */
  singleShotSlew(offsetSeconds: number): number {
    const offset = Math.round(offsetSeconds * 1e6);
    const { timex } = this.#ops.adjtimex({ modes: ADJ_OFFSET_SINGLESHOT, offset });
    return timex.offset / 1e6;
  }
}
