/**
 * Replay of a recorded real-time run: a `tempus daemon -x` synchronised to a real chronyd
 * records its samples (`recordmeasurements`) beside its tracking.log; `tempus replay` then
 * runs the recording through the engine in virtual time and must take the same decisions,
 * sample for sample: each sample accepted or rejected as the daemon decided (the recording
 * holds rejected replies too: a delay spike on loopback fails test C now and then), the same
 * number of clock updates, and every update's offset equal to tracking.log's within its 4
 * digits + 1 µs (`compareUpdates`), with a median difference under 10 ns and none over 200 ns.
 * The recording keeps each sample's time, the server's processing time and when the
 * daemon handled the reply, so the replay's regression sees the daemon's sample intervals and
 * its clock updates come when the daemon's did: an update that came a few milliseconds later
 * (the daemon's processing under load) moved the stored samples against the new ones by the
 * frequency change times that, enough to turn a test C verdict near its limit.
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
      // Where a verdict differs, the daemon's measurements.log line (its test bits) beside
      // the replay's sample says which test decided it.
      const differing = samples.flatMap((
        s: { accepted: boolean; recorded: boolean },
        i: number,
      ) => s.accepted !== s.recorded ? [{ replayed: s, logged: logged[i] }] : []);
      assert.deepEqual(differing, [], "the replay accepts exactly what the daemon accepted");
      const nRejected = samples.filter((s: { recorded: boolean }) => !s.recorded).length;
      if (nRejected > 0) console.log(`  ${nRejected} samples rejected by both`);
      assert.equal(r.unused, 0);
      const c = r.comparison;
      assert.equal(c.replayed, c.recorded, JSON.stringify(c));
      // Within tracking.log's rounding: measured here, a median difference of 0.01-0.2 ns
      // and at most 20 ns, idle or with three busy loops beside it.
      assert.equal(c.matched, c.recorded, JSON.stringify(c));
      assert.ok(c.medianDiff < 1e-8, JSON.stringify(c));
      assert.ok(c.maxDiff < 2e-7, JSON.stringify(c));
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
