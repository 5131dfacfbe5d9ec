import assert from "node:assert/strict";
import type { NtpDataReport, SourceReport } from "../core/reports.ts";
import { parseSampleRecords, SampleRecorder } from "../io/sample_record.ts";
import { attachSampleRecorder, type RecordedEngine } from "./sample_recording.ts";

const ALL_TESTS = 0x3ff;
const TEST_C = 1 << 8;
const TEST_6 = 1 << 4;

/** A stand-in engine: one source whose next reply the test sets, hooks the recorder chains. */
function fakeEngine() {
  let now = 1_000_000_000_000_000_000n;
  let data = { offset: 0, peerDelay: 0, tests: ALL_TESTS, totalValidRx: 0 };
  const calls: string[] = [];
  const engine: RecordedEngine = {
    onSampleAccepted: () => calls.push("accepted"),
    onReply: () => calls.push("reply"),
    sources: () => [{ id: 1, address: "192.0.2.1", poll: 4 } as SourceReport],
    ntpData: () =>
      ({
        ...data,
        stratum: 1,
        precision: -20,
        rootDelay: 0,
        rootDispersion: 0,
        sampleTime: now - 3_000_000n,
        responseTime: 2.5e-5,
      }) as NtpDataReport,
    clock: { cookedNow: () => now },
  };
  /** A reply measured with `tests`; `use` when the engine accepts its sample. */
  const reply = (offset: number, tests: number, use: boolean, measured = true) => {
    data = { ...data, offset, peerDelay: 1e-3, tests };
    if (measured) data.totalValidRx++;
    if (use) engine.onSampleAccepted?.(1);
    now += 1000n; // the clock update between the sample and the end of the reply's processing
    engine.onReply?.(1);
    now += 1_000_000_000n;
  };
  return { engine, reply, calls };
}

Deno.test("recordmeasurements records every synchronised reply with the daemon's verdict", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/samples.jsonl`;
    const { engine, reply, calls } = fakeEngine();
    const recorder = SampleRecorder.open(path, 1e-8);
    const warnings: string[] = [];
    attachSampleRecorder(engine, recorder, (m) => warnings.push(m));
    reply(1e-5, ALL_TESTS, true);
    reply(2e-5, ALL_TESTS & ~TEST_C, false); // a delay jump: measured, not used
    reply(3e-5, ALL_TESTS & ~TEST_6, false); // unsynchronised server: not in measurements.log
    reply(4e-5, ALL_TESTS, false, false); // a duplicate: nothing measured
    reply(5e-5, ALL_TESTS, true);
    recorder.close();
    // The hooks already there still run, before the recording's.
    assert.deepEqual(calls.slice(0, 2), ["accepted", "reply"]);
    assert.equal(calls.length, 7);
    const text = Deno.readTextFileSync(path);
    const parsed = parseSampleRecords(text);
    assert.equal(parsed.precision, 1e-8);
    assert.deepEqual(
      parsed.entries.map((e) => [e.offset, e.valid]),
      [[1e-5, true], [2e-5, false], [5e-5, true]],
    );
    // An accepted sample is stamped when accepted, a rejected one after its reply.
    const t = text.trim().split("\n").slice(1).map((l) => BigInt(JSON.parse(l).t));
    assert.equal(t[0], 1_000_000_000_000_000_000n);
    assert.equal(t[1], 1_000_000_001_000_002_000n);
    // Each with its measurement's time and the server's processing time.
    assert.deepEqual(
      parsed.entries.map((e) => [e.sampleTime, e.responseTime]),
      [
        [1_000_000_000_000_000_000n - 3_000_000n + 1000n, 2.5e-5],
        [1_000_000_001_000_002_000n - 3_000_000n, 2.5e-5],
        [1_000_000_004_000_005_000n - 3_000_000n, 2.5e-5],
      ],
    );
    // Writing to a closed file warns once, never throws.
    reply(6e-5, ALL_TESTS, true);
    reply(7e-5, ALL_TESTS, true);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^Could not record a measurement: /);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
