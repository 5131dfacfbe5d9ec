/**
 * Replay of a recorded real-time run: a `tempus daemon -x` synchronised to a real chronyd
 * records its samples (`recordmeasurements`) beside its tracking.log; `tempus replay` then
 * runs the recording through the engine in virtual time and must take the same decisions,
 * sample for sample: each sample accepted or rejected as the daemon decided (the recording
 * holds rejected replies too: a delay spike on loopback fails test C now and then), the same
 * number of clock updates, and the update offsets equal within tracking.log's 4 digits (+1 µs).
 */
import assert from "node:assert/strict";
import { haveBinary, runTempus } from "../helpers/peers.ts";
import { withTempusDaemon } from "../helpers/tempus_daemon.ts";

const HAVE_CHRONY = haveBinary("chronyd") && haveBinary("chronyc");

Deno.test({
  name: "a recorded real-time run replays sample for sample",
  ignore: !HAVE_CHRONY,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-replay-" });
    try {
      await withTempusDaemon(
        [`recordmeasurements ${dir}/samples.jsonl`, `logdir ${dir}`, "log measurements tracking"],
        {},
        async (daemon) => {
          await daemon.waitSelected();
          await new Promise((r) => setTimeout(r, 15_000));
        },
      );
      const lines = Deno.readTextFileSync(`${dir}/samples.jsonl`).trim().split("\n");
      assert.match(lines[0], /^\{"recording":"tempus","precision":[0-9.e-]+\}$/);
      const recorded = lines.slice(1);
      assert.match(recorded[0], /"server":\{"stratum":1,/);
      assert.ok(recorded.length >= 15, `${recorded.length} samples recorded`);
      const out = await runTempus(["replay", "--json", dir]);
      assert.equal(out.code, 0, out.stderr);
      const r = JSON.parse(out.stdout);
      const samples = r.events.filter((e: { kind: string }) => e.kind === "sample");
      assert.equal(samples.length, recorded.length);
      // The recording holds every synchronised reply, as measurements.log does, with the
      // daemon's verdict; the replay must reach the same verdict on each.
      const logged = Deno.readTextFileSync(`${dir}/measurements.log`).split("\n")
        .filter((l) => /^\d{4}-\d\d-\d\d /.test(l));
      assert.equal(logged.length, recorded.length);
      const differing = samples.filter((s: { accepted: boolean; recorded: boolean }) =>
        s.accepted !== s.recorded
      );
      assert.deepEqual(differing, [], "the replay accepts exactly what the daemon accepted");
      const nRejected = samples.filter((s: { recorded: boolean }) => !s.recorded).length;
      if (nRejected > 0) console.log(`  ${nRejected} samples rejected by both`);
      assert.equal(r.unused, 0);
      const c = r.comparison;
      assert.equal(c.replayed, c.recorded, JSON.stringify(c));
      // Within tracking.log's rounding, except where the daemon's own processing delay between
      // a sample and its clock update (the virtual clock slewing meanwhile) moved the logged
      // offset: a loaded machine stretches that delay (at load 5: a median difference of
      // 0.35 µs once; 3 of 22 updates off by up to 5 µs once).
      assert.ok(c.matched >= 0.8 * c.recorded, JSON.stringify(c));
      assert.ok(c.medianDiff < 1e-6, JSON.stringify(c));
      console.log(`  replay of ${recorded.length} recorded samples: ${JSON.stringify(c)}`);
      const text = await runTempus(["replay", "-q", dir]);
      assert.match(
        text.stdout,
        new RegExp(
          `^replayed ${recorded.length} of ${recorded.length} recorded samples \\(${
            recorded.length - nRejected
          } accepted, ${nRejected} rejected, 0 never asked for\\); 0 verdicts differ`,
          "m",
        ),
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
