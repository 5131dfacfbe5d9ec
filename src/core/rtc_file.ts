/**
 * chrony's rtcfile: one line "%1d %.0f %.6f %.3f\n" holding a valid flag, the reference time
 * (RTC time in Unix seconds), the seconds the RTC was fast of system time at the reference
 * time, and the RTC gain rate in ppm (> 0: the RTC gains). Parsing never throws.
 *
 * @module
 */

/** The RTC drift coefficients as stored in the rtcfile. */
export interface RtcCoefficients {
  /** Whether the coefficients are valid. */
  valid: boolean;
  /** Reference time: RTC reading (Unix seconds) at which `secondsFast` held. */
  refTime: number;
  /** Seconds the RTC was fast of system time at `refTime`. */
  secondsFast: number;
  /** Seconds the RTC gains per second of its own time, in ppm. */
  gainRatePpm: number;
}

/** Why an rtcfile could not be read. */
export type RtcFileError =
  | { kind: "empty" }
  | { kind: "fields"; found: number }
  | { kind: "number"; field: string; text: string };

/** Result of {@link parseRtcFile}. */
export type RtcFileResult =
  | { ok: true; coefficients: RtcCoefficients }
  | { ok: false; error: RtcFileError };

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses rtcfile text (chrony reads it with fscanf "%d%ld%lf%lf": whitespace-separated, extra
 * text after the four fields is ignored).
 */
export function parseRtcFile(text: string): RtcFileResult {
  const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return { ok: false, error: { kind: "empty" } };
  if (words.length < 4) return { ok: false, error: { kind: "fields", found: words.length } };
  const names = ["valid", "refTime", "secondsFast", "gainRatePpm"];
  const values: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = words[i];
    const v = Number(w);
    const integral = i < 2;
    if (!NUMBER.test(w) || !Number.isFinite(v) || (integral && !/^[+-]?\d+$/.test(w))) {
      return { ok: false, error: { kind: "number", field: names[i], text: w } };
    }
    values.push(v);
  }
  return {
    ok: true,
    coefficients: {
      valid: values[0] !== 0,
      refTime: values[1],
      secondsFast: values[2],
      gainRatePpm: values[3],
    },
  };
}

/** Serialises coefficients exactly as chrony writes them. */
export function serializeRtcFile(c: RtcCoefficients): string {
  return `${c.valid ? 1 : 0} ${c.refTime.toFixed(0)} ${c.secondsFast.toFixed(6)} ${
    c.gainRatePpm.toFixed(3)
  }\n`;
}
