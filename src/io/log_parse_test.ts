import assert from "node:assert/strict";
import { bannerBlock, formatMeasurementLine, formatTrackingLine } from "./log_format.ts";
import { parseMeasurementsLog, parseTrackingLog } from "./log_parse.ts";

const T = 1_780_000_000n * 1_000_000_000n;

Deno.test("tracking.log lines written by tempus read back in tempus's signs", () => {
  const line = (reference: string, offset: number, leap: 0 | 1) =>
    formatTrackingLine({
      time: T,
      reference,
      stratum: 2,
      freqPpm: 12.5,
      skewPpm: 0.02,
      offset,
      leap,
      combinedSources: 1,
      offsetSd: 1e-6,
      remainingCorrection: 0,
      rootDelay: 2e-4,
      rootDispersion: 3e-5,
      maxError: 1.3e-4,
    });
  const text = bannerBlock("   Date (UTC) Time ...") + line("127.0.0.1", 2.5e-6, 0) + "\n" +
    line("", -1.5, 1) + "\ngarbage line here\n";
  const r = parseTrackingLog(text);
  assert.equal(r.entries.length, 2);
  assert.equal(r.skipped, 1);
  const [a, b] = r.entries;
  assert.equal(a.t, 1_780_000_000);
  assert.equal(a.reference, "127.0.0.1");
  assert.equal(a.offset, 2.5e-6);
  assert.equal(a.freqPpm, -12.5, "chrony sense as logged");
  assert.equal(a.rootDelay, 2e-4);
  assert.equal(b.reference, "");
  assert.equal(b.offset, -1.5);
  assert.equal(b.leap, "+");
});

Deno.test("measurements.log and statistics.log lines read back", () => {
  const m = formatMeasurementLine({
    time: T,
    address: "192.0.2.7",
    leap: 0,
    stratum: 1,
    tests: 0x3ff,
    localPoll: 6,
    remotePoll: 6,
    score: 0,
    offset: -3.25e-4,
    peerDelay: 1.5e-3,
    peerDispersion: 1e-6,
    rootDelay: 0,
    rootDispersion: 0,
    refId: 0x47505300,
    mode: 4,
    interleaved: false,
    txSource: "D",
    rxSource: "K",
    valid: true,
  });
  const r = parseMeasurementsLog(m + "\n" + m.replace("111 111 1111", "111 101 1111"));
  assert.equal(r.entries.length, 2);
  assert.deepEqual(r.entries[0], {
    t: 1_780_000_000,
    source: "192.0.2.7",
    offset: -3.25e-4,
    delay: 1.5e-3,
    valid: true,
    poll: 6,
  });
  assert.equal(r.entries[1].valid, false);
});

Deno.test("random text never throws and yields only finite values", () => {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const alphabet = "0123456789 .-+eE:N\n2026-12-04 17:00:00 abc";
  for (let i = 0; i < 3000; i++) {
    const text = Array.from({ length: rnd() % 300 }, () => alphabet[rnd() % alphabet.length])
      .join("");
    for (const e of parseTrackingLog(text).entries) assert.ok(Number.isFinite(e.offset));
    for (const e of parseMeasurementsLog(text).entries) assert.ok(Number.isFinite(e.delay));
  }
});
