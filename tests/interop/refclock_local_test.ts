/**
 * The `local` refclock option in the daemon, beside chronyd 4.3 fed the same samples: each runs
 * (`-x`) a GPS SOCK refclock with true time and an OCXO SOCK refclock with `local`, whose device
 * is 0.3 s off and 50 ppm fast but steady. Both select GPS and never the local refclock, show it
 * with the same state in `chronyc sources`, and log its samples as pulses of an unsynchronised
 * source in refclocks.log (leap `?`, P 1).
 */
import assert from "node:assert/strict";
import { encodeSockSample } from "../../src/refclock/sock_sample.ts";
import { freeUdpPort, haveBinary, runCommand, startBackground, waitFor } from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const missing = ["chronyd", "chronyc"].filter((b) => !haveBinary(b));
if (missing.length > 0) {
  console.warn(`refclock local interop skipped: missing ${missing.join(", ")}`);
}

/** System time now in ns (ms resolution plus a sub-ms part from the monotonic clock). */
function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

Deno.test({
  name: "refclock local interop: tempus and chronyd 4.3 keep a local SOCK refclock unselected",
  ignore: missing.length > 0,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-rclocal-" });
    const socks = {
      tempus: { gps: `${dir}/t.gps.sock`, ocxo: `${dir}/t.ocxo.sock` },
      chronyd: { gps: `${dir}/c.gps.sock`, ocxo: `${dir}/c.ocxo.sock` },
    };
    const tempusCmd = freeUdpPort();
    const chronyCmd = freeUdpPort();
    const refclocks = (s: { gps: string; ocxo: string }) => [
      `refclock SOCK ${s.gps} refid GPS poll 0`,
      `refclock SOCK ${s.ocxo} refid OCXO local poll 0`,
    ];
    const tempus = startBackground(
      Deno.execPath(),
      tempusDaemonArgs([
        "-x",
        "-d",
        ...refclocks(socks.tempus),
        `pidfile ${dir}/tempus.pid`,
        `cmdport ${tempusCmd}`,
        "bindcmdaddress 127.0.0.1",
        "port 0",
        `logdir ${dir}/tempus-log`,
        "log refclocks",
      ]),
    );
    const chronyd = startBackground("chronyd", [
      "-x",
      "-d",
      "-u",
      "root",
      `pidfile ${dir}/chronyd.pid`,
      `cmdport ${chronyCmd}`,
      "bindcmdaddress 127.0.0.1",
      `bindcmdaddress ${dir}/chronyd.sock`,
      "port 0",
      ...refclocks(socks.chronyd),
      `logdir ${dir}/chronyd-log`,
      "log refclocks",
    ]);
    const feeder = Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/feeder.sock` });
    const start = nowNs();
    let feeding = true;
    const feed = (async () => {
      while (feeding) {
        const time = nowNs();
        const gps = (Math.random() - 0.5) * 2e-6;
        const ocxo = 0.3 + 50e-6 * Number(time - start) / 1e9 + (Math.random() - 0.5) * 2e-6;
        for (const s of [socks.tempus, socks.chronyd]) {
          for (const [path, offset] of [[s.gps, gps], [s.ocxo, ocxo]] as const) {
            const bytes = encodeSockSample({ time, offset, pulse: false, leap: 0 });
            await feeder.send(bytes, { transport: "unixpacket", path }).catch(() => {});
          }
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const chronyc = async (port: number, ...args: string[]) => {
      const out = await runCommand("chronyc", ["-n", "-h", "127.0.0.1", "-p", `${port}`, ...args]);
      return out.stdout + out.stderr;
    };
    try {
      const sources: Record<string, string> = { tempus: "", chronyd: "" };
      for (const [who, port] of [["tempus", tempusCmd], ["chronyd", chronyCmd]] as const) {
        await waitFor(
          async () => {
            sources[who] = await chronyc(port, "sources");
            // GPS selected and the local refclock past its first statistics (reach 377).
            return /^#\* GPS /m.test(sources[who]) && /^#. OCXO +0 +0 +377 /m.test(sources[who]);
          },
          40_000,
          `${who} to select GPS with OCXO reachable`,
        ).catch((e) => {
          const out = who === "tempus" ? tempus.output() : chronyd.output();
          throw new Error(`${e.message}\n${sources[who]}\n${out}`);
        });
      }
      const state = (text: string) => /^#(.) OCXO /m.exec(text)?.[1];
      assert.notEqual(state(sources.tempus), "*");
      assert.equal(
        state(sources.tempus),
        state(sources.chronyd),
        `${sources.tempus}\n---\n${sources.chronyd}`,
      );
      for (const port of [tempusCmd, chronyCmd]) {
        assert.match(await chronyc(port, "tracking"), /Reference ID +: 47505300 \(GPS\)/);
      }
      // refclocks.log: OCXO's samples are pulses (P 1) of an unsynchronised source (leap ?).
      for (const who of ["tempus", "chronyd"]) {
        const log = await Deno.readTextFile(`${dir}/${who}-log/refclocks.log`);
        assert.match(log, /^\S+ \S+ OCXO +\d+ \? 1 /m, `${who}:\n${log.slice(0, 2000)}`);
        assert.match(log, /^\S+ \S+ OCXO +- \? - /m, `${who}: no filtered OCXO line`);
        assert.doesNotMatch(log, /^\S+ \S+ OCXO +\d+ N /m);
      }
    } finally {
      feeding = false;
      await feed;
      feeder.close();
      await tempus.stop();
      await chronyd.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
