import assert from "node:assert/strict";
import { formatSampleRecord, parseSampleRecords, SampleRecorder } from "./sample_record.ts";

/** A record as the daemon writes it, without the optional fields. */
const RECORD = {
  t: 1_796_406_901_123_456_789n,
  source: "192.0.2.1",
  offset: -1.2345678901e-5,
  delay: 0.0012345678,
  poll: 6,
  accepted: true,
};

Deno.test("recorded samples round-trip at full precision; bad lines are counted", () => {
  const r = RECORD;
  const line = formatSampleRecord(r);
  const rejected = formatSampleRecord({ ...r, accepted: false });
  // A line from before the verdict was recorded (no "accepted") counts as accepted.
  const old = line.replace(',"accepted":true', "");
  assert.notEqual(old, line);
  const parsed = parseSampleRecords(
    line + '\n\nnot json\n{"t":"x"}\n' + line + "\n" + rejected + "\n" + old,
  );
  assert.equal(parsed.entries.length, 4);
  assert.equal(parsed.skipped, 2);
  assert.deepEqual(parsed.entries.map((e) => e.valid), [true, true, false, true]);
  assert.deepEqual(parsed.entries[0], {
    t: 1_796_406_901.1234567,
    source: "192.0.2.1",
    offset: r.offset,
    delay: r.delay,
    valid: true,
    poll: 6,
  });
  let seed = 3;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const chars = '{}":,0123456789.-etsourcdlaypn \n';
  for (let i = 0; i < 3000; i++) {
    const text = Array.from({ length: rnd() % 200 }, () => chars[rnd() % chars.length]).join("");
    for (const e of parseSampleRecords(text).entries) assert.ok(Number.isFinite(e.offset));
  }
});

Deno.test("a sample's time and the server's processing time round-trip exactly", () => {
  const r = { ...RECORD, sampleTime: 1_796_406_901_117_000_001n, responseTime: 3.25e-5 };
  const line = formatSampleRecord(r);
  assert.match(line, /"sampleTime":"1796406901117000001","responseTime":0\.0000325/);
  const [e] = parseSampleRecords(line).entries;
  assert.equal(e.sampleTime, r.sampleTime);
  assert.equal(e.responseTime, r.responseTime);
  // Not numbers where strings belong, nor the reverse: the field is left out, the line kept.
  const bad = parseSampleRecords(
    line.replace('"1796406901117000001"', "1796406901117000001").replace("0.0000325", '"x"'),
  ).entries;
  assert.equal(bad.length, 1);
  assert.equal(bad[0].sampleTime, undefined);
  assert.equal(bad[0].responseTime, undefined);
});

Deno.test("the recorder appends lines to a file it creates", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/sub/samples.jsonl`;
    for (let k = 0; k < 2; k++) {
      const w = SampleRecorder.open(path);
      w.write({ t: BigInt(k), source: "a", offset: k, delay: 0, poll: 0, accepted: true });
      w.close();
    }
    assert.deepEqual(parseSampleRecords(Deno.readTextFileSync(path)).entries.map((e) => e.offset), [
      0,
      1,
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
