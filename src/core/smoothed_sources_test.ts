import assert from "node:assert/strict";
import { SMOOTH_REFID } from "./smoothing.ts";
import { SmoothedSourceWatch } from "./smoothed_sources.ts";

const src = (address: string, refId: number, reachable = true, refclock = false) => ({
  address,
  refId,
  reachable,
  refclock,
});

Deno.test("smoothed sources: a mix is warned about once per change, never without a mix", () => {
  const w = new SmoothedSourceWatch();
  assert.equal(w.check([src("192.0.2.1", 0xc0000201), src("192.0.2.2", 0xc0000202)]), null);
  assert.equal(w.check([src("192.0.2.1", SMOOTH_REFID), src("192.0.2.2", SMOOTH_REFID)]), null);
  const mix = [src("192.0.2.1", SMOOTH_REFID), src("192.0.2.2", 0xc0000202)];
  const first = w.check(mix);
  assert.ok(first?.includes("192.0.2.1 serves smoothed time"), String(first));
  assert.ok(first?.includes("RFC 8633"));
  assert.equal(w.check(mix), null, "once");
  // An unreachable or refclock neighbour is no mix; the mix coming back warns again.
  assert.equal(w.check([src("192.0.2.1", SMOOTH_REFID), src("192.0.2.2", 1, false)]), null);
  assert.equal(w.check([src("192.0.2.1", SMOOTH_REFID), src("GPS", 0x47505300, true, true)]), null);
  assert.ok(w.check(mix) !== null);
});
