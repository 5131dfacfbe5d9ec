import assert from "node:assert/strict";
import { parseSettime } from "./settime_parse.ts";

const NOW = new Date(2026, 10, 24, 9, 15, 0); // local time, like chronyc

function local(y: number, mo: number, d: number, h: number, mi: number, s: number): bigint {
  return BigInt(new Date(y, mo, d, h, mi, s).getTime()) * 1_000_000n;
}

Deno.test("settime: time of day today, in local time", () => {
  assert.equal(parseSettime("16:30", NOW), local(2026, 10, 24, 16, 30, 0));
  assert.equal(parseSettime("16:30:05", NOW), local(2026, 10, 24, 16, 30, 5));
  assert.equal(parseSettime("4:30:05 pm", NOW), local(2026, 10, 24, 16, 30, 5));
});

Deno.test("settime: dates as operators type them", () => {
  const want = local(2026, 10, 24, 16, 30, 5);
  assert.equal(parseSettime("Nov 24, 2026 16:30:05", NOW), want);
  assert.equal(parseSettime("November 24 2026 16:30:05", NOW), want);
  assert.equal(parseSettime("24 Nov 2026 16:30:05", NOW), want);
  assert.equal(parseSettime("Tue Nov 24 16:30:05 2026", NOW), want);
  assert.equal(parseSettime("2026-11-24 16:30:05", NOW), want);
});

Deno.test("settime: ISO 8601 with zones, UTC words and @epoch", () => {
  const utc = BigInt(Date.UTC(2026, 10, 24, 16, 30, 5)) * 1_000_000n;
  assert.equal(parseSettime("2026-11-24T16:30:05Z", NOW), utc);
  assert.equal(parseSettime("2026-11-24T17:30:05+01:00", NOW), utc);
  assert.equal(parseSettime("2026-11-24T16:30:05.5Z", NOW), utc + 500_000_000n);
  assert.equal(parseSettime("Nov 24, 2026 16:30:05 UTC", NOW), utc);
  assert.equal(parseSettime("@1795514400", NOW), 1795514400n * 1_000_000_000n);
});

Deno.test("settime: garbage and impossible times are rejected", () => {
  for (
    const bad of ["", "tomorrow", "25:00", "16:61", "Feb 30, 2026 10:00", "2026-13-01", "1 2 3"]
  ) {
    assert.equal(parseSettime(bad, NOW), null, bad);
  }
});
