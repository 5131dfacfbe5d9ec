import assert from "node:assert/strict";
import { PpsDevice } from "../../ffi/pps.ts";
import { FakePpsKernel } from "../../tests/helpers/fake_pps.ts";
import { edgeSecond, newEdge, openPpsRefclock } from "./pps_driver.ts";

const S = 1_000_000_000n;

Deno.test("PPS driver: an edge's second is its sub-second; only new edges count", () => {
  assert.equal(edgeSecond(5n * S + 250_000_000n), 0.25);
  assert.equal(edgeSecond(-S / 4n), 0.75);
  const info = {
    assertSequence: 3,
    clearSequence: 9,
    assertTime: 7n * S,
    clearTime: 8n * S,
    mode: 0,
  };
  assert.deepEqual(newEdge(info, false, 2), { edge: 7n * S, sequence: 3 });
  assert.deepEqual(newEdge(info, false, 3), { edge: null, sequence: 3 });
  assert.deepEqual(newEdge(info, true, 2), { edge: 8n * S, sequence: 9 });
  assert.deepEqual(newEdge({ ...info, assertTime: 0n }, false, 2), { edge: null, sequence: 3 });
});

Deno.test({
  name: "PPS driver: pulses from a fake kernel; a device that vanishes is reopened",
  sanitizeOps: false,
  async fn() {
    const k = new FakePpsKernel();
    const pulses: [bigint, number][] = [];
    const lines: string[] = [];
    const log = { log: (_l: string, m: string) => void lines.push(m) };
    const h = openPpsRefclock(
      () => PpsDevice.open("/dev/pps0", false, k),
      -5, // 31 ms polls
      (t, s) => pulses.push([t, s]),
      log,
      "refclock PPS /dev/pps0",
    );
    const tick = () => new Promise((r) => setTimeout(r, 80));
    try {
      // An edge already there at open is skipped (it may be old).
      k.info = { ...k.info, assertSequence: 1, assertTime: 100n * S + 1_000n };
      await tick();
      assert.deepEqual(pulses, []);
      k.info = { ...k.info, assertSequence: 2, assertTime: 101n * S + 2_000n };
      await tick();
      assert.deepEqual(pulses, [[101n * S + 2_000n, 2e-6]]);
      k.present = false; // unplugged
      await tick();
      assert.ok(lines.some((l) => /device lost/.test(l)), lines.join("\n"));
      assert.equal(k.openFds, 0);
      k.present = true;
      k.info = { ...k.info, assertSequence: 3, assertTime: 103n * S + 3_000n };
      await tick();
      assert.ok(lines.some((l) => /device back/.test(l)), lines.join("\n"));
      k.info = { ...k.info, assertSequence: 4, assertTime: 104n * S + 4_000n };
      await tick();
      assert.deepEqual(pulses.map((p) => p[0]), [101n * S + 2_000n, 104n * S + 4_000n]);
      assert.equal(h.accepted, 2);
    } finally {
      h.close();
    }
    assert.equal(k.openFds, 0);
  },
});
