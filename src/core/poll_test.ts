import assert from "node:assert/strict";
import { adjustPoll, pollAdjustment } from "./poll.ts";

Deno.test("poll adjustment: a missed prediction shortens the poll by log2(error/distance)", () => {
  assert.equal(pollAdjustment(8e-3, 1e-3, 8, 8), -3);
});

Deno.test("poll adjustment steers the sample count to the target, faster when short", () => {
  assert.equal(pollAdjustment(0, 1e-3, 16, 8), 1 / 8);
  assert.equal(pollAdjustment(0, 1e-3, 4, 8), 2 * (-0.5 / 8));
  assert.equal(pollAdjustment(0, 1e-3, 8, 8), 0);
});

Deno.test("adjustPoll moves whole units of score and clamps to the range", () => {
  const up = adjustPoll({ poll: 6, score: 0.9 }, 0.25, 6, 10, false);
  assert.equal(up.poll, 7);
  assert.ok(Math.abs(up.score - 0.15) < 1e-12);
  assert.deepEqual(adjustPoll({ poll: 7, score: 0.1 }, -0.5, 6, 10, false), {
    poll: 6,
    score: 0.6,
  });
  assert.deepEqual(adjustPoll({ poll: 10, score: 0.5 }, 1, 6, 10, false), { poll: 10, score: 1 });
  assert.deepEqual(adjustPoll({ poll: 6, score: 0 }, -5, 6, 10, false), { poll: 6, score: 0 });
});

Deno.test("sub-second polling only on a reachable LAN source", () => {
  assert.equal(adjustPoll({ poll: 0, score: 0 }, -2, -3, -3, false).poll, 0);
  assert.equal(adjustPoll({ poll: 0, score: 0 }, -2, -3, -3, true).poll, -3);
});
