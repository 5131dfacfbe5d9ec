import assert from "node:assert/strict";
import { decideAction, STEP_THRESHOLD } from "./decide.ts";

Deno.test("default mode steps above the threshold and slews below it", () => {
  assert.equal(STEP_THRESHOLD, 0.128);
  assert.equal(decideAction(0.2, "auto").action, "step");
  assert.equal(decideAction(-0.2, "auto").correction, -0.2);
  const slew = decideAction(0.05, "auto");
  assert.equal(slew.action, "slew");
  assert.ok(Math.abs(slew.slewSeconds - 100) < 1e-9);
  assert.equal(decideAction(0.128, "auto").action, "slew");
  assert.equal(decideAction(0.05, "auto", 0.01).action, "step");
});

Deno.test("forced modes and dry run", () => {
  assert.equal(decideAction(0.001, "step").action, "step");
  assert.equal(decideAction(10, "slew").action, "slew");
  const dry = decideAction(10, "dry-run");
  assert.equal(dry.action, "none");
  assert.equal(dry.correction, 0);
});
