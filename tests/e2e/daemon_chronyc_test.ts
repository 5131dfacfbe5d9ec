/**
 * The real chronyc (Debian chrony 4.3) against a running `tempus daemon -x` synchronised to a
 * real chronyd: the open monitoring commands over UDP, the privileged ones over the Unix
 * socket (and refused over UDP), and manual time input with settime and manual list.
 */
import assert from "node:assert/strict";
import { haveBinary, waitFor } from "../helpers/peers.ts";
import { kernelSocketsAvailable } from "../../src/io/kernel_socket.ts";
import { type TempusUnderTest, withTempusDaemon } from "../helpers/tempus_daemon.ts";

const HAVE_CHRONY = haveBinary("chronyd") && haveBinary("chronyc");

/** A tempus daemon synchronised to a chronyd upstream, selected before `body` runs. */
function withDaemon(body: (daemon: TempusUnderTest) => Promise<void>): Promise<void> {
  return withTempusDaemon([], {}, async (daemon) => {
    await daemon.waitSelected();
    await body(daemon);
  });
}

Deno.test({
  name: "chronyc monitoring commands over UDP against tempus daemon",
  ignore: !HAVE_CHRONY,
  async fn() {
    await withDaemon(async ({ chronyc }) => {
      const tracking = await chronyc("tracking");
      assert.match(tracking, /Reference ID\s+: 7F000001 \(127\.0\.0\.1\)/);
      assert.match(tracking, /Stratum\s+: 2/);
      assert.match(tracking, /Frequency\s+: [0-9.]+ ppm (slow|fast)/);
      assert.match(tracking, /Leap status\s+: Normal/);
      const sources = await chronyc("sources", "-v");
      assert.match(sources, /Source mode\s+'\^' = server/);
      assert.match(sources, /^\^\* 127\.0\.0\.1\s+1\s+-?\d+\s+[0-7]+\s/m);
      const stats = await chronyc("sourcestats", "-v");
      assert.match(stats, /Number of sample points in measurement set/);
      assert.match(stats, /^127\.0\.0\.1\s+\d+\s+\d+\s+\d+/m);
      assert.match(await chronyc("activity"), /1 sources (online|doing burst)/);
      const ntpdata = await chronyc("ntpdata", "127.0.0.1");
      assert.match(ntpdata, /Remote address\s+: 127\.0\.0\.1/);
      assert.match(ntpdata, /Stratum\s+: 1/);
      assert.match(ntpdata, /Total good RX\s+: [1-9]/);
      // The requests' transmit and the replies' receive times are the kernel's timestamps
      // (kernel sockets on Linux).
      if (kernelSocketsAvailable()) {
        assert.match(ntpdata, /TX timestamping\s+: Kernel/);
        assert.match(ntpdata, /RX timestamping\s+: Kernel/);
      }
      assert.match(await chronyc("serverstats"), /NTP packets received\s+: \d+/);
      assert.match(await chronyc("selectdata"), /^\* 127\.0\.0\.1/m);
      assert.match(await chronyc("waitsync", "3", "0.1"), /try: 1, refid: 7F000001/);
      assert.match(await chronyc("makestep"), /501 Not authorised/);
      assert.match(await chronyc("burst", "4/4"), /501 Not authorised/);
    });
  },
});

Deno.test({
  name: "chronyc privileged commands over the Unix socket change tempus's behaviour",
  ignore: !HAVE_CHRONY,
  async fn() {
    await withDaemon(async ({ chronyc, chronycUnix: unix }) => {
      // Under -x there is no clock to step: 500, as chronyd -x answers (issue 13, item 8).
      assert.match(await unix("makestep"), /500 Failure/);
      await waitFor(
        async () => /1 sources online/.test(await chronyc("activity")),
        15_000,
        "the initial burst to end",
      );
      assert.match(await unix("offline"), /200 OK/);
      assert.match(await chronyc("activity"), /0 sources online\s+1 sources offline/);
      assert.match(await unix("online"), /200 OK/);
      // Going online starts the iburst again (the source is configured with iburst).
      assert.match(
        await chronyc("activity"),
        /(1 sources online\s+0 sources offline)|(0 sources offline\s+1 sources doing burst \(return to online\))/,
      );
      assert.match(await unix("burst", "2/4"), /200 OK/);
      assert.match(await chronyc("activity"), /1 sources doing burst \(return to online\)/);
      // Per-source modifiers reach the engine's source (a field it did not know: 502).
      assert.match(await unix("maxdelay", "127.0.0.1", "0.5"), /200 OK/);
      assert.match(await unix("polltarget", "127.0.0.1", "10"), /200 OK/);
      assert.match(await unix("maxdelay", "192.0.2.99", "0.5"), /503 No such source/);
    });
  },
});

Deno.test({
  name: "manual time input through chronyc: settime entries, manual list, estimated rate",
  ignore: !HAVE_CHRONY,
  async fn() {
    await withDaemon(async ({ chronycUnix: unix }) => {
      const now = new Date().toISOString().replace("T", " ").slice(0, 19);
      assert.match(await unix("settime", now), /505 Facility not enabled/);
      assert.match(await unix("manual", "on"), /200 OK/);
      // Three entries 2 s apart that put the clock about a second behind (whole seconds:
      // chronyc's date parser takes no fractions).
      const outputs: string[] = [];
      for (let i = 0; i < 3; i++) {
        const when = new Date(Date.now() + 1000);
        outputs.push(await unix("settime", when.toISOString().replace("T", " ").slice(0, 19)));
        await new Promise((r) => setTimeout(r, 2000));
      }
      // chronyc prints the signed offset: "Clock was -0.50 seconds fast" means 0.5 s slow.
      for (const out of outputs) assert.match(out, /Clock was -?[0-9.]+ seconds fast/);
      assert.match(outputs[2], /Frequency change = -?[0-9.]+ppm, new frequency = -?[0-9.]+ppm/);
      const list = await unix("manual", "list");
      assert.match(list, /210 n_samples = 3/);
      assert.equal((list.match(/^\s*\d+ \d{4}-\d\d-\d\d/gm) ?? []).length, 3, list);
    });
  },
});
