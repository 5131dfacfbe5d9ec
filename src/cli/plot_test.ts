import assert from "node:assert/strict";
import type { MeasurementEntry, TrackingEntry } from "../io/log_parse.ts";
import { findEvents } from "./plot.ts";
import { niceTicks, renderPlot, timeTicks, xmlEscape } from "./plot_svg.ts";

const HAVE_RSVG = (() => {
  try {
    return new Deno.Command("rsvg-convert", { args: ["--version"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

function track(t: number, offset: number, leap = "N"): TrackingEntry {
  return {
    t,
    reference: "127.0.0.1",
    stratum: 2,
    freqPpm: 10 + t % 7,
    skewPpm: 0.1,
    offset,
    leap,
    rootDelay: 1e-3,
    rootDispersion: 2e-4,
    maxError: 8e-4,
  };
}

const T0 = Date.UTC(2016, 11, 31, 23, 50) / 1000;
const tracking = Array.from(
  { length: 60 },
  (_, i) => track(T0 + 20 * i, i === 5 ? 2 : 1e-5 * Math.sin(i), i > 10 && i < 40 ? "+" : "N"),
);
const measurements: MeasurementEntry[] = Array.from({ length: 120 }, (_, i) => ({
  t: T0 + 10 * i,
  source: i % 2 === 0 ? "192.0.2.1" : "<odd&source>",
  offset: 1e-4 * Math.cos(i),
  delay: 1e-3 + 1e-5 * i,
  valid: true,
}));

Deno.test("steps at the threshold and the leap at the midnight it applies to", () => {
  const ev = findEvents(tracking, 1);
  assert.deepEqual(ev.steps, [{ t: T0 + 100, offset: 2 }]);
  assert.deepEqual(ev.leaps, [{ t: Date.UTC(2017, 0, 1) / 1000, kind: "leap second inserted" }]);
});

Deno.test("ticks: 1-2-5 values and whole clock times", () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(-3e-6, 3e-6, 3), [-2e-6, 0, 2e-6]);
  const { ticks, step } = timeTicks(T0 + 7, T0 + 3600);
  assert.equal(step, 600);
  assert.ok(ticks.every((t) => t % 600 === 0));
  assert.equal(xmlEscape('<a&"b">'), "&lt;a&amp;&quot;b&quot;&gt;");
});

Deno.test({
  name: "the SVG is valid (rsvg-convert renders it) and carries axes, legend, markers",
  ignore: !HAVE_RSVG,
  async fn() {
    const svg = renderPlot({
      title: "test <plot>",
      tracking,
      measurements,
      ...findEvents(tracking, 1),
    });
    for (
      const text of [
        "Offset (µs)",
        "Frequency",
        "Round-trip delay (ms)",
        "Root distance (log scale)",
        "step 2.00 s",
        "leap second inserted",
        "&lt;odd&amp;source&gt;",
        "time (UTC)",
        "23:50",
      ]
    ) {
      assert.ok(svg.includes(text), `missing ${text}`);
    }
    const dir = Deno.makeTempDirSync();
    try {
      Deno.writeTextFileSync(`${dir}/p.svg`, svg);
      const out = await new Deno.Command("rsvg-convert", {
        args: [`${dir}/p.svg`, "-o", `${dir}/p.png`],
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const png = Deno.readFileSync(`${dir}/p.png`);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
      const v = new DataView(png.buffer, png.byteOffset);
      assert.equal(v.getUint32(16), 1100);
      assert.ok(v.getUint32(20) > 800);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
