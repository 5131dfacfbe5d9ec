import assert from "node:assert/strict";
import {
  DEFAULT_CLIENT_SEND_TIMING as T,
  replyWaitDelayMs,
  sendRecordMatters,
} from "./client_send_timing.ts";

Deno.test("client send timing: idle after a send unless requests to the server are frequent", () => {
  assert.equal(replyWaitDelayMs(T, null), 3, "first request to a server");
  assert.equal(replyWaitDelayMs(T, 1000), 3, "normal polling");
  assert.equal(replyWaitDelayMs(T, 100), 3, "the bound itself is not frequent");
  assert.equal(replyWaitDelayMs(T, 99.9), 0, "sub-second polling and bursts");
  assert.equal(replyWaitDelayMs(T, 0), 0);
  const custom = { ...T, idleAfterSendMs: 7, frequentSendMs: 10 };
  assert.equal(replyWaitDelayMs(custom, 20), 7);
  assert.equal(replyWaitDelayMs(custom, 5), 0);
});

Deno.test("client send timing: records older than the frequency bound may be forgotten", () => {
  assert.equal(sendRecordMatters(T, 50), true);
  assert.equal(sendRecordMatters(T, 100), false);
  assert.equal(Object.isFrozen(T), true);
  assert.equal(T.endPreviousWait, true);
  assert.equal(T.spareRefillMs, 100);
});
