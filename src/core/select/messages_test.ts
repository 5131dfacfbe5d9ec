import assert from "node:assert/strict";
import { isBadStatus, statusMessage } from "./messages.ts";

const OPTS = { maxDistance: 0.5, maxJitter: 0.01 };

Deno.test("statusMessage: chrony's lines, distance and jitter after 4 bad updates", () => {
  assert.equal(statusMessage("d", "a", 3, OPTS), null);
  assert.deepEqual(statusMessage("d", "a", 4, OPTS), {
    level: "warning",
    text: "Root distance of a exceeds maxdistance of 0.500 seconds",
  });
  assert.equal(statusMessage("~", "a", 3, OPTS), null);
  assert.equal(
    statusMessage("~", "a", 4, OPTS)?.text,
    "Jitter of a exceeds maxjitter of 0.010 seconds",
  );
  assert.deepEqual(statusMessage("x", "a", 0, OPTS), {
    level: "warning",
    text: "Detected falseticker a",
  });
  assert.deepEqual(statusMessage("*", "a", 0, OPTS), {
    level: "info",
    text: "Selected source a",
  });
  for (const s of "N M s r w S O T W P U D +".split(" ")) {
    assert.equal(statusMessage(s, "a", 9, OPTS), null, s);
  }
});

Deno.test("isBadStatus: x, d and ~", () => {
  assert.deepEqual(
    "N M s r d ~ w S O T x W P U D + *".split(" ").filter(isBadStatus),
    ["d", "~", "x"],
  );
});
