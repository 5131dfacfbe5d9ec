import assert from "node:assert/strict";
import type { AssessmentSummary } from "./assess.ts";
import { firstReportDue, waitForStatistics } from "./startup.ts";

const SUMMARY: AssessmentSummary = {
  requireConfigured: false,
  unreachable: 0,
  badStats: 1,
  maxBadReach: 0b11,
  maxBadReachSize: 2,
  maxStuckReachSize: 0,
  maxSelReach: 0b111,
  maxSelReachSize: 3,
  maxReachSampleAgo: 0,
};

Deno.test("waitForStatistics: at start-up, a source one poll behind is waited for", () => {
  assert.equal(waitForStatistics(SUMMARY, 1, false), true);
  assert.equal(waitForStatistics(SUMMARY, 1, true), false, "a source is already selected");
  assert.equal(waitForStatistics(SUMMARY, 0, false), false, "nothing selectable");
  assert.equal(waitForStatistics({ ...SUMMARY, badStats: 0 }, 1, false), false);
  assert.equal(waitForStatistics({ ...SUMMARY, maxSelReachSize: 8 }, 1, false), false);
  assert.equal(waitForStatistics({ ...SUMMARY, maxBadReach: 0b1 }, 1, false), false);
});

Deno.test("firstReportDue: a full register of a selectable or a stuck source", () => {
  assert.equal(firstReportDue(SUMMARY), false);
  assert.equal(firstReportDue({ ...SUMMARY, maxSelReachSize: 8 }), true);
  assert.equal(firstReportDue({ ...SUMMARY, maxStuckReachSize: 8 }), true);
  // A source without statistics that is still collecting does not count.
  assert.equal(firstReportDue({ ...SUMMARY, maxBadReachSize: 8 }), false);
});
