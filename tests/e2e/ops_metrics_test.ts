/**
 * The operator services of a running `tempus daemon -x` synchronised to a real chronyd:
 * the Prometheus endpoint (accepted by `promtool check metrics`, scraped by a real Prometheus
 * on loopback whose query API then returns tempus's offset), `tempus metrics` over the
 * command socket, and `tempus now` from the error-bound page, which must contain the host's
 * time (the upstream chronyd serves this very clock).
 */
import assert from "node:assert/strict";
import {
  freeUdpPort,
  haveBinary,
  runCommand,
  runTempus,
  startBackground,
  startChronydServer,
  waitFor,
} from "../helpers/peers.ts";
import { withTempusDaemon } from "../helpers/tempus_daemon.ts";

const HAVE_CHRONY = haveBinary("chronyd") && haveBinary("chronyc");
const HAVE_PROMETHEUS = haveBinary("prometheus") && haveBinary("promtool");

function freeTcpPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test({
  name: "metrics endpoint, tempus metrics, promtool, a real Prometheus, and tempus now",
  ignore: !HAVE_CHRONY || !HAVE_PROMETHEUS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-ops-" });
    const metricsPort = freeTcpPort();
    const page = `${dir}/run/errorbound`;
    try {
      await withTempusDaemon(
        [`metricsport ${metricsPort}`, `errorboundfile ${page}`],
        {},
        async (daemon) => {
          await daemon.waitSelected();
          const url = `http://127.0.0.1:${metricsPort}/metrics`;
          let body = "";
          await waitFor(
            async () => {
              body = await (await fetch(url)).text();
              return /^tempus_source_selected\{source="127\.0\.0\.1".*\} 1$/m.test(body);
            },
            15_000,
            "the endpoint to show the source selected",
          );
          assert.match(body, /^# TYPE tempus_system_time_offset_seconds gauge$/m);
          assert.match(body, /^tempus_synchronised 1$/m);
          assert.match(
            body,
            /^tempus_source_requests_sent_total\{source="127\.0\.0\.1",.*\} [1-9]/m,
          );
          assert.match(body, /^tempus_server_command_requests_total \d+$/m);
          assert.match(body, /^tempus_max_error_seconds [0-9.e-]+$/m);
          const res = await fetch(`http://127.0.0.1:${metricsPort}/nothing`);
          await res.body?.cancel();
          assert.equal(res.status, 404);
          const check = await promtoolCheck(body);
          assert.equal(check.code, 0, check.output);
          assert.equal(check.output.trim(), "", `promtool lint: ${check.output}`);

          // tempus metrics: the same renderer over chrony's command protocol.
          const cli = await runTempus(["metrics", "-h", daemon.socket]);
          assert.equal(cli.code, 0, cli.stderr);
          assert.match(cli.stdout, /^tempus_source_selected\{source="127\.0\.0\.1",.*\} 1$/m);
          const families = (t: string) =>
            [...t.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]).filter((n) =>
              n !== "tempus_max_error_seconds"
            );
          assert.deepEqual(families(cli.stdout), families(body));
          const cliCheck = await promtoolCheck(cli.stdout);
          assert.equal(cliCheck.code, 0, cliCheck.output);

          // tempus now: the host clock is the upstream's, so true time is the host's time.
          const now = await runTempus(["now", "--json", "--file", page]);
          assert.equal(now.code, 0, now.stdout + now.stderr);
          const host = Date.now() / 1000;
          const v = JSON.parse(now.stdout);
          assert.equal(v.status, "synchronised");
          assert.ok(v.earliest <= host + 0.05 && host - 0.05 <= v.latest, now.stdout);
          assert.ok(v.latest - v.earliest < 0.1, `width ${v.latest - v.earliest}`);
          // An application reads the page through mmap, unprivileged (docs/examples).
          if (haveBinary("cc") && haveBinary("setpriv")) {
            const exe = `${dir}/errorbound_read`;
            const source = new URL("../../docs/examples/errorbound_read.c", import.meta.url);
            const built = await runCommand("cc", ["-O2", "-o", exe, source.pathname, "-lm"]);
            assert.equal(built.code, 0, built.stderr);
            await Deno.chmod(dir, 0o755);
            await Deno.chmod(`${dir}/run`, 0o755);
            const app = await runCommand("setpriv", [
              "--reuid=nobody",
              "--regid=nogroup",
              "--clear-groups",
              exe,
              page,
            ]);
            assert.equal(app.code, 0, app.stdout + app.stderr);
            const [earliest, latest] = app.stdout.trim().split(" ").map(Number);
            const hostNow = Date.now() / 1000;
            assert.ok(earliest <= hostNow + 0.05 && hostNow - 0.05 <= latest, app.stdout);
            assert.ok(Math.abs((latest - earliest) - (v.latest - v.earliest)) < 0.01);
          }
          const text = await runTempus(["now", "--file", page]);
          assert.match(text.stdout, /^\d{4}-\d\d-\d\dT[0-9:.]+Z ≤ true time ≤ \d{4}-.*Z {2}\(±/);

          // A real Prometheus scrapes the endpoint; its query API returns tempus's offset.
          const promPort = freeTcpPort();
          await Deno.writeTextFile(
            `${dir}/prometheus.yml`,
            [
              "global:",
              "  scrape_interval: 1s",
              "scrape_configs:",
              "  - job_name: tempus",
              "    static_configs:",
              `      - targets: ["127.0.0.1:${metricsPort}"]`,
            ].join("\n") + "\n",
          );
          const prom = startBackground("prometheus", [
            `--config.file=${dir}/prometheus.yml`,
            `--storage.tsdb.path=${dir}/data`,
            `--web.listen-address=127.0.0.1:${promPort}`,
          ]);
          try {
            let answer: {
              status?: string;
              data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
            } = {};
            await waitFor(
              async () => {
                try {
                  const r = await fetch(
                    `http://127.0.0.1:${promPort}/api/v1/query?query=tempus_system_time_offset_seconds`,
                  );
                  answer = await r.json();
                  return (answer.data?.result?.length ?? 0) > 0;
                } catch {
                  return false;
                }
              },
              30_000,
              "Prometheus to scrape tempus",
            ).catch((e) => {
              throw new Error(`${e.message}\n${prom.output().slice(-2000)}`);
            });
            assert.equal(answer.status, "success");
            const sample = answer.data!.result![0];
            assert.equal(sample.metric.job, "tempus");
            assert.ok(Number.isFinite(Number(sample.value[1])));
            assert.ok(Math.abs(Number(sample.value[1])) < 0.1, sample.value[1]);
          } finally {
            await prom.stop();
          }

          // tempus plot from the running daemon's recent history (GET /history).
          const history = await (await fetch(`http://127.0.0.1:${metricsPort}/history`)).json();
          assert.ok(history.tracking.length >= 3, JSON.stringify(history).slice(0, 500));
          assert.ok(history.measurements.length >= 3);
          assert.equal(history.measurements[0].source, "127.0.0.1");
          const live = await runTempus([
            "plot",
            "--url",
            `http://127.0.0.1:${metricsPort}`,
            "-o",
            `${dir}/live.svg`,
          ]);
          assert.equal(live.code, 0, live.stderr);
          if (haveBinary("rsvg-convert")) {
            const png = await runCommand("rsvg-convert", [
              `${dir}/live.svg`,
              "-o",
              `${dir}/live.png`,
            ]);
            assert.equal(png.code, 0, png.stderr);
            assert.ok(Deno.statSync(`${dir}/live.png`).size > 10_000);
          }
        },
      );
      // After the daemon stopped, the page says unsynchronised and tempus now exits 1.
      const after = await runTempus(["now", "--json", "--file", page]);
      assert.equal(after.code, 1);
      assert.equal(JSON.parse(after.stdout).status, "unsynchronised");
      const missing = await runCommand(Deno.execPath(), [
        "run",
        "-A",
        "--quiet",
        new URL("../../mod.ts", import.meta.url).pathname,
        "now",
        "--file",
        `${dir}/absent`,
      ]);
      assert.equal(missing.code, 1);
      assert.match(missing.stdout, /no error-bound page/);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "chronyc smoothing and smoothtime against tempus with smoothtime ... leaponly",
  ignore: !HAVE_CHRONY,
  async fn() {
    const ntpPort = freeTcpPort();
    await withTempusDaemon(
      [
        "smoothtime 400 0.001024 leaponly",
        "leapsecmode slew",
        "maxslewrate 1000",
        "allow 127.0.0.1",
        `port ${ntpPort}`,
        "bindaddress 127.0.0.1",
      ],
      {},
      async (daemon) => {
        await daemon.waitSelected();
        const out = await daemon.chronyc("smoothing");
        assert.match(out, /^Active\s+: Yes \(leap second only\)$/m, out);
        assert.match(out, /^Offset\s+: \+0\.000000000 seconds$/m, out);
        assert.match(out, /^Frequency\s+: [+-]0\.000000 ppm$/m, out);
        assert.match(out, /^Remaining time : 0\.0 seconds$/m, out);
        assert.match(await daemon.chronycUnix("smoothtime", "reset"), /200 OK/);
        assert.match(await daemon.chronyc("smoothtime", "reset"), /501 Not authorised/);
        const json = await runTempus(["smoothing", "--json", "-h", daemon.socket]);
        assert.equal(json.code, 0, json.stdout + json.stderr);
        assert.equal(JSON.parse(json.stdout).flags, 3);
      },
    );
    // Without smoothtime the daemon says so, as chronyd does (chronyc: 505).
    await withTempusDaemon([], {}, async (daemon) => {
      await daemon.waitSelected();
      assert.match(await daemon.chronyc("smoothing"), /505 Facility not enabled in daemon/);
    });
  },
});

Deno.test({
  name: "tempus metrics against a real chronyd (an exporter for chrony too)",
  ignore: !HAVE_CHRONY || !HAVE_PROMETHEUS,
  async fn() {
    const cmdPort = freeUdpPort();
    const chronyd = await startChronydServer({
      extra: [`cmdport ${cmdPort}`, "bindcmdaddress 127.0.0.1"],
    });
    try {
      let out = "";
      await waitFor(
        async () => {
          const r = await runTempus(["metrics", "-h", "127.0.0.1", "-p", String(cmdPort)]);
          out = r.stdout;
          return r.code === 0;
        },
        10_000,
        "chronyd's command port",
      );
      assert.match(out, /^tempus_stratum 1$/m);
      assert.match(out, /^tempus_reference_info\{ref_id="7F7F0101",address=""\} 1$/m);
      const check = await promtoolCheck(out);
      assert.equal(check.code, 0, check.output);
    } finally {
      await chronyd.stop();
    }
  },
});
