/**
 * Manual input against a clock running 100 ppm slow: an operator enters the true time once an
 * hour (with up to 1 ms of reading error); each returned correction is applied to a tiny
 * virtual clock, as the engine would, and the stored samples are told about the change. The
 * frequency correction must converge on 100 ppm (chrony's 143-manual expects a frequency change
 * of 99.xx/100.xx ppm).
 */
import assert from "node:assert/strict";
import { seededRandom } from "../helpers/random.ts";
import { ManualInput } from "../../src/core/manual.ts";
import { addSeconds, type Instant, secondsBetween } from "../../src/base/time.ts";

/** A local clock whose oscillator runs `errorPpm` off true time, with corrections applied. */
class VirtualClock {
  #trueBase: Instant;
  #localBase: Instant;
  /** Frequency correction in force, ppm (tempus sense). */
  freqPpm = 0;
  readonly #errorPpm: number;

  constructor(start: Instant, errorPpm: number) {
    this.#trueBase = start;
    this.#localBase = start;
    this.#errorPpm = errorPpm;
  }

  /** Local clock rate relative to true time, minus 1 (fraction). */
  get rateError(): number {
    return (1 + this.#errorPpm * 1e-6) * (1 + this.freqPpm * 1e-6) - 1;
  }

  read(trueTime: Instant): Instant {
    return addSeconds(
      this.#localBase,
      secondsBetween(trueTime, this.#trueBase) * (1 + this.rateError),
    );
  }

  /** Applies an offset step and a frequency change at `trueTime`. */
  adjust(trueTime: Instant, offset: number, dfreqPpm: number): void {
    this.#localBase = addSeconds(this.read(trueTime), offset);
    this.#trueBase = trueTime;
    this.freqPpm += dfreqPpm + this.freqPpm * dfreqPpm * 1e-6;
  }
}

Deno.test("manual entries an hour apart recover a 100 ppm error to within 1 ppm", () => {
  const rand = seededRandom(143);
  const start: Instant = 1_700_000_000n * 1_000_000_000n;
  const clock = new VirtualClock(start, -100);
  const manual = new ManualInput({ enabled: true });
  const changes: number[] = [];
  for (let hour = 0; hour <= 6; hour++) {
    const trueTime = addSeconds(start, hour * 3600);
    const local = clock.read(trueTime);
    const typed = addSeconds(trueTime, (rand() - 0.5) * 2e-3);
    const r = manual.accept(local, typed, clock.freqPpm);
    assert.ok(r.ok);
    const { offset, freqPpm } = r.update;
    clock.adjust(trueTime, offset, freqPpm);
    manual.applyClockChange({
      when: local,
      dfreq: freqPpm * 1e-6,
      doffset: offset,
      kind: "adjust",
    });
    assert.ok(Math.abs(r.report.newFreqPpm - clock.freqPpm) < 1e-9);
    changes.push(freqPpm);
    // After the correction the clock reads true time (within the typing error).
    assert.ok(Math.abs(secondsBetween(clock.read(trueTime), trueTime)) < 2e-3);
  }
  console.log(
    `manual 100 ppm: frequency changes ${changes.map((c) => c.toFixed(2)).join(", ")} ppm; ` +
      `correction ${clock.freqPpm.toFixed(3)} ppm; residual rate ${
        (clock.rateError * 1e6).toFixed(3)
      } ppm`,
  );
  assert.equal(changes[0], 0);
  assert.ok(changes[1] > 99 && changes[1] < 101, `first frequency change ${changes[1]}`);
  assert.ok(Math.abs(clock.freqPpm - 100.01) < 1, `correction ${clock.freqPpm}`);
  assert.ok(Math.abs(clock.rateError) < 1e-6, `rate error ${clock.rateError}`);
  // A day later the clock is still within 0.1 s of true time.
  const later = addSeconds(start, 6 * 3600 + 86400);
  assert.ok(Math.abs(secondsBetween(clock.read(later), later)) < 0.1);
});
