import assert from "node:assert/strict";
import {
  bootstrapMinSources,
  certTimeCheck,
  certTimeOptions,
  unverifiedUpdates,
} from "./cert_time.ts";
import { RELEASE_DATE, RELEASE_UNIX_TIME } from "../version.ts";

const floor = Date.parse("2026-01-01T00:00:00Z") / 1000;

Deno.test("cert time: a clock before the floor checks at the floor, expiry only", () => {
  assert.deepEqual(certTimeCheck(0, floor, false), { kind: "floor", floor });
  assert.deepEqual(certTimeCheck(floor - 1, floor, false), { kind: "floor", floor });
  assert.deepEqual(certTimeCheck(NaN, floor, false), { kind: "floor", floor });
  assert.deepEqual(certTimeOptions(certTimeCheck(0, floor, false)), { timeFloor: floor });
});

Deno.test("cert time: a plausible clock is used; nocerttimecheck skips whatever the clock", () => {
  assert.deepEqual(certTimeCheck(floor, floor, false), { kind: "clock" });
  assert.deepEqual(certTimeOptions(certTimeCheck(floor + 86400, floor, false)), {});
  for (const now of [0, floor - 1, floor + 1]) {
    assert.deepEqual(certTimeOptions(certTimeCheck(now, floor, true)), { noTimeCheck: true });
  }
});

Deno.test("cert time: the release floor is a real date, not after this test's clock", () => {
  assert.ok(Number.isFinite(RELEASE_UNIX_TIME), RELEASE_DATE);
  assert.ok(RELEASE_UNIX_TIME > Date.parse("2025-01-01T00:00:00Z") / 1000);
  assert.ok(RELEASE_UNIX_TIME <= Date.now() / 1000, "release date in the future");
});

Deno.test("cert time: the unverified period and the bootstrap quorum", () => {
  assert.equal(unverifiedUpdates(0, false), 0);
  assert.equal(unverifiedUpdates(0, true), 1);
  assert.equal(unverifiedUpdates(3, true), 3);
  assert.equal(unverifiedUpdates(2, false), 2);
  // [configured minsources, NTS sources, unverified] -> minsources
  const cases: [number, number, boolean, number][] = [
    [1, 1, true, 1], // one NTS source: nothing to agree with
    [1, 2, true, 2],
    [1, 3, true, 2],
    [1, 4, true, 3],
    [1, 5, true, 3],
    [4, 3, true, 4], // never lowered
    [1, 4, false, 1], // verified: the configured value
  ];
  for (const [configured, nts, unverified, want] of cases) {
    assert.equal(bootstrapMinSources(configured, nts, unverified), want, `${configured} ${nts}`);
  }
});
