/**
 * The real-time clock device: read and set /dev/rtc through the RTC ioctls, and wait for
 * update-ended interrupts (the instant the RTC's second changes).
 *
 * @module
 */
import { ErrnoError } from "../../ffi/errno.ts";
import {
  closeFd,
  ioctlBuffer,
  ioctlValue,
  O_CLOEXEC,
  O_RDONLY,
  O_RDWR,
  openPath,
  pollReadable,
  pollReadableAsync,
  readFd,
} from "../../ffi/libc.ts";
import {
  decodeRtcTime,
  encodeRtcTime,
  RTC_RD_TIME,
  RTC_SET_TIME,
  RTC_TIME_SIZE,
  RTC_UF,
  RTC_UIE_OFF,
  RTC_UIE_ON,
  rtcTimeToUnixSeconds,
  unixSecondsToRtcTime,
} from "../../ffi/rtc_time.ts";

/** A real-time clock. Times are whole Unix seconds (the RTC has 1 s resolution). */
export interface RtcDevice {
  /** Device path, for messages. */
  readonly path: string;
  /** True when the RTC keeps UTC, false for local time. */
  readonly utc: boolean;
  /** The RTC's time as Unix seconds. */
  readTime(): number;
  /** Sets the RTC to whole Unix seconds `unixSeconds`. */
  setTime(unixSeconds: number): void;
  /**
   * Waits up to `timeoutMs` for the next update-ended interrupt (the RTC's second just
   * changed); resolves true if one came. Enables interrupts on first use.
   */
  waitForUpdate(timeoutMs: number): Promise<boolean>;
  /** Disables interrupts and closes the device. */
  close(): void;
}

/** An RtcDevice over a Linux /dev/rtcN character device. */
export class LinuxRtcDevice implements RtcDevice {
  /** Device path. */
  readonly path: string;
  /** True when the RTC keeps UTC. */
  readonly utc: boolean;
  #fd: number;
  #uie = false;

  /** Opens `path` (read-write, or read-only when writing is refused). Throws ErrnoError. */
  constructor(path: string, utc: boolean) {
    this.path = path;
    this.utc = utc;
    try {
      this.#fd = openPath(path, O_RDWR | O_CLOEXEC);
    } catch (e) {
      if (!(e instanceof ErrnoError) || (e.code !== "EACCES" && e.code !== "EROFS")) throw e;
      this.#fd = openPath(path, O_RDONLY | O_CLOEXEC);
    }
  }

  #checkOpen(): void {
    if (this.#fd < 0) throw new Error(`${this.path} is closed`);
  }

  /** RTC_RD_TIME, converted to Unix seconds. */
  readTime(): number {
    this.#checkOpen();
    const buf = new Uint8Array(RTC_TIME_SIZE);
    ioctlBuffer(this.#fd, RTC_RD_TIME, buf, "RTC_RD_TIME");
    return rtcTimeToUnixSeconds(decodeRtcTime(buf), this.utc);
  }

  /** RTC_SET_TIME from Unix seconds. */
  setTime(unixSeconds: number): void {
    this.#checkOpen();
    const buf = encodeRtcTime(unixSecondsToRtcTime(unixSeconds, this.utc));
    ioctlBuffer(this.#fd, RTC_SET_TIME, buf, "RTC_SET_TIME");
  }

  /** Reads one interrupt word (unsigned long) when one is pending; its RTC_UF bit. */
  #readInterrupt(): boolean {
    const word = new Uint8Array(8);
    readFd(this.#fd, word);
    return (Number(new DataView(word.buffer).getBigUint64(0, true)) & RTC_UF) !== 0;
  }

  /** Waits for the next update-ended interrupt (RTC_UIE_ON on first use). */
  async waitForUpdate(timeoutMs: number): Promise<boolean> {
    this.#checkOpen();
    if (!this.#uie) {
      ioctlValue(this.#fd, RTC_UIE_ON, 0, "RTC_UIE_ON");
      this.#uie = true;
      // Drop an interrupt left over from before, so the next one is a fresh edge.
      while (pollReadable(this.#fd, 0)) this.#readInterrupt();
    }
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = Math.max(0, Math.round(deadline - performance.now()));
      if (!(await pollReadableAsync(this.#fd, left))) return false;
      if (this.#readInterrupt()) return true;
      if (performance.now() >= deadline) return false;
    }
  }

  /** RTC_UIE_OFF (if enabled) and close(). Safe to call twice. */
  close(): void {
    if (this.#fd < 0) return;
    try {
      if (this.#uie) ioctlValue(this.#fd, RTC_UIE_OFF, 0, "RTC_UIE_OFF");
    } finally {
      closeFd(this.#fd);
      this.#fd = -1;
      this.#uie = false;
    }
  }
}

/**
 * Opens the RTC at `path` (UTC or local time per `utc`). Throws an Error with a clear
 * message when the device is missing or cannot be opened.
 */
export function openRtc(path: string, utc: boolean): RtcDevice {
  try {
    return new LinuxRtcDevice(path, utc);
  } catch (e) {
    if (e instanceof ErrnoError) {
      const why = e.code === "ENOENT" || e.code === "ENODEV" || e.code === "ENXIO"
        ? "no such RTC device"
        : e.code === "EACCES" || e.code === "EPERM"
        ? "permission denied"
        : e.code === "EBUSY"
        ? "device busy (is another program using it?)"
        : e.message;
      throw new Error(`cannot open RTC ${path}: ${why} (${e.code})`, { cause: e });
    }
    throw e;
  }
}
