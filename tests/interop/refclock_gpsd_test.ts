/**
 * Interop: reference clocks with the real chrony and ntpsec tools.
 *
 * A feeder in the test plays gpsd's part: it writes chrony's `struct sock_sample` datagrams
 * to the SOCK refclocks of tempus and of a real `chronyd -x` beside it, and an ntpd SHM
 * segment (mode 1, as gpsd writes it) to tempus's SHM refclock. Both daemons must select the
 * GPS source (`chronyc sources` shows `#*`); tempus, a stratum-1 server on the GPS refclock,
 * must be accepted by chronyd as a client (`ntpdata`: stratum 1, reference ID GPS or NMEA), by
 * `chronyd -Q` and by ntpsec's `ntpdig` (stratum 1).
 *
 * The feeder's samples carry the system time with an offset of ~0: the test asserts
 * selection, stratum and refid, not accuracy.
 *
 * The second test runs the real gpsd 3.22: an NMEA log made by the test is replayed at 1 Hz
 * through a pty that is gpsd's controlling terminal, opened by gpsd as `/dev/tty` (an
 * explicit device, `-n -N`). gpsfake cannot be used: gpsd never writes its NTP outputs for a
 * `/dev/pts/*` source (its "test harness" check), which is what gpsfake hands it. gpsd
 * writes the NMEA time to SHM unit 0, which chronyd and then tempus read and select (`#*`),
 * one after the other: each read clears the segment's `valid` flag, so two readers of one
 * segment starve each other (SHM has a single consumer by design).
 * tempus, serving NTP on GPS, is then a stratum-1 server for `chronyd -Q`, ntpdig and a plain
 * NTP query (reference ID GPS), when the test may bind port 123 on a loopback address.
 * gpsd writes chrony's SOCK only for PPS edges (its PPS thread), which a pty cannot give:
 * SOCK is covered by the first test's feeder.
 * Nothing here touches the clock: both daemons run with -x.
 */
import assert from "node:assert/strict";
import { ShmSegment } from "../../ffi/shm.ts";
import { encodeSockSample } from "../../src/refclock/sock_sample.ts";
import { encodeShmTime, SHM_KEY_BASE, SHM_TIME_SIZE } from "../../src/refclock/shm_time.ts";
import {
  canBind,
  chronydQuery,
  freeUdpPort,
  haveBinary,
  REPO_ROOT,
  runCommand,
  startBackground,
  waitFor,
} from "../helpers/peers.ts";
import { ntpQuery } from "../helpers/ntp_query.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const HOST = "127.0.0.163";
/** Where the real-gpsd test's tempus serves NTP. */
const SERVE_HOST = "127.0.0.166";
const missing = ["chronyd", "chronyc", "ntpdig"].filter((b) => !haveBinary(b));
const ready = missing.length === 0 && canBind(HOST, 123);
if (!ready) {
  console.warn(
    `refclock interop skipped: ${
      missing.length > 0 ? `missing ${missing.join(", ")}` : `cannot bind ${HOST}:123`
    }`,
  );
}

/** System time now in ns (ms resolution plus a sub-ms part from the monotonic clock). */
function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

Deno.test({
  name:
    "refclock interop: SOCK and SHM selected as #* in tempus and chronyd; tempus serves stratum 1 on its refclocks",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-refclock-" });
    const tempusSock = `${dir}/chrony.tempus.sock`;
    const chronySock = `${dir}/chrony.chronyd.sock`;
    const unit = 100 + Math.floor(Math.random() * 100);
    const shm = ShmSegment.attach(SHM_KEY_BASE + unit, SHM_TIME_SIZE, 0o600);
    const tempusCmd = freeUdpPort();
    const chronyCmd = freeUdpPort();
    const tempus = startBackground(
      Deno.execPath(),
      tempusDaemonArgs([
        "-x",
        "-d",
        `refclock SOCK ${tempusSock} refid GPS poll 0`,
        `refclock SHM ${unit} refid NMEA poll 0 dpoll -2`,
        `pidfile ${dir}/tempus.pid`,
        `cmdport ${tempusCmd}`,
        "bindcmdaddress 127.0.0.1",
        `bindaddress ${HOST}`,
        "port 123",
        "allow 127.0.0.0/8",
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
      `refclock SOCK ${chronySock} refid GPS poll 0`,
      `server ${HOST} iburst minpoll -1 maxpoll 0`,
      `logdir ${dir}/chronyd-log`,
      "log refclocks",
    ]);
    const feeder = Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/feeder.sock` });
    let count = 0;
    let feeding = true;
    const feed = (async () => {
      while (feeding) {
        const time = nowNs();
        const offset = (Math.random() - 0.5) * 2e-6;
        const bytes = encodeSockSample({ time, offset, pulse: false, leap: 0 });
        for (const path of [tempusSock, chronySock]) {
          await feeder.send(bytes, { transport: "unixpacket", path }).catch(() => {});
        }
        count++;
        shm.setInt32(48, 0);
        shm.write(encodeShmTime({
          mode: 1,
          count,
          clockTime: time + BigInt(Math.round(offset * 1e9)),
          receiveTime: time,
          leap: 0,
          precision: -20,
          valid: 1,
        }));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const chronyc = async (port: number, ...args: string[]) => {
      const out = await runCommand("chronyc", ["-n", "-h", "127.0.0.1", "-p", `${port}`, ...args]);
      return out.stdout + out.stderr;
    };
    try {
      let last = "";
      await waitFor(
        async () => {
          last = await chronyc(tempusCmd, "sources");
          return /^#\* GPS /m.test(last) && /^#[*+] NMEA /m.test(last);
        },
        30_000,
        "tempus to select its GPS refclock",
      ).catch((e) => {
        throw new Error(`${e.message}\n${last}\n${tempus.output()}`);
      });
      const stats = await chronyc(tempusCmd, "sourcestats");
      assert.match(stats, /^GPS +\d+/m);
      const sel = await chronyc(tempusCmd, "selectdata");
      assert.match(sel, /^\* GPS /m);
      const tracking = await chronyc(tempusCmd, "tracking");
      assert.match(tracking, /Reference ID +: 47505300 \(GPS\)/);
      assert.match(tracking, /Stratum +: 1/);

      // chronyd beside it, fed the same samples, selects its own GPS refclock too ...
      let chronySources = "";
      await waitFor(
        async () => {
          chronySources = await chronyc(chronyCmd, "sources");
          return /^#\* GPS /m.test(chronySources) &&
            /^\^[*+\-] 127\.0\.0\.163/m.test(chronySources);
        },
        30_000,
        "chronyd to select GPS and to accept tempus",
      ).catch((e) => {
        throw new Error(`${e.message}\n${chronySources}\n${chronyd.output()}`);
      });
      // ... and as tempus's client sees a stratum-1 server whose reference is one of its
      // refclocks. GPS and NMEA carry the same time at near-equal root distance, and
      // refclocks get no reselectdist, so the scores (as chrony's) may hand the selection to
      // NMEA in the seconds since `tracking` showed GPS: both reference IDs are right.
      const nd = await runCommand("chronyc", ["-n", "-h", `${dir}/chronyd.sock`, "ntpdata", HOST]);
      const ntpdata = nd.stdout + nd.stderr;
      assert.match(ntpdata, /Stratum +: 1\b/);
      assert.match(ntpdata, /Reference ID +: (47505300 \(GPS\)|4E4D4541 \(NMEA\))/);

      const q = await chronydQuery(HOST, 123);
      assert.ok(Math.abs(q.offset) < 0.01, `chronyd -Q offset ${q.offset}`);
      const dig = await runCommand("ntpdig", ["-j", "-t", "2", "-p", "2", HOST]);
      assert.equal(dig.code, 0, dig.stderr);
      const r = JSON.parse(dig.stdout.trim().split("\n").pop()!);
      assert.equal(r.stratum, 1);
      assert.equal(r.leap, "no-leap");

      // refclocks.log: the same banner and the same columns as chronyd's.
      const ours = await Deno.readTextFile(`${dir}/tempus-log/refclocks.log`);
      const theirs = await Deno.readTextFile(`${dir}/chronyd-log/refclocks.log`);
      const header = (t: string) => t.split("\n").slice(0, 3).join("\n");
      assert.equal(header(ours), header(theirs));
      const shape = (line: string) =>
        line.replace(/\d/g, "9").replace(/[+-](?=9\.)/g, " ").replace(/e[+-]/g, "e+");
      const raw = (t: string) => t.split("\n").find((l) => /^\S+ \S+ GPS +\d+ N 0 /.test(l))!;
      const filtered = (t: string) => t.split("\n").find((l) => /^\S+ \S+ GPS +- N - /.test(l))!;
      assert.ok(raw(ours) && raw(theirs), `no raw GPS line:\n${ours}\n---\n${theirs}`);
      assert.ok(filtered(ours) && filtered(theirs), "no filtered GPS line");
      assert.equal(shape(raw(ours)).length, shape(raw(theirs)).length);
      assert.equal(shape(filtered(ours)).length, shape(filtered(theirs)).length);
    } finally {
      feeding = false;
      await feed;
      feeder.close();
      await tempus.stop();
      await chronyd.stop();
      shm.remove();
      shm.detach();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

const gpsdMissing = ["gpsd", "python3", "chronyd", "chronyc"].filter((b) => !haveBinary(b));
if (gpsdMissing.length > 0) {
  console.warn(`refclock gpsd interop skipped: missing ${gpsdMissing.join(", ")}`);
}

/** NMEA checksum of a sentence body. */
function nmeaChecksum(body: string): string {
  let x = 0;
  for (const c of body) x ^= c.charCodeAt(0);
  return x.toString(16).toUpperCase().padStart(2, "0");
}

/** An NMEA log (GGA + RMC each second, groups separated by empty lines) from `start`. */
function nmeaLog(start: number, seconds: number): string {
  const groups: string[] = [];
  for (let k = 0; k < seconds; k++) {
    const d = new Date((start + k) * 1000);
    const p = (n: number) => String(n).padStart(2, "0");
    const hms = `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.00`;
    const dmy = `${p(d.getUTCDate())}${p(d.getUTCMonth() + 1)}${p(d.getUTCFullYear() % 100)}`;
    const gga = `GPGGA,${hms},4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,`;
    const rmc = `GPRMC,${hms},A,4807.038,N,01131.000,E,000.0,000.0,${dmy},,,A`;
    groups.push(`$${gga}*${nmeaChecksum(gga)}\n$${rmc}*${nmeaChecksum(rmc)}`);
  }
  return groups.join("\n\n") + "\n";
}

Deno.test({
  name:
    "refclock interop: the real gpsd writes SHM 0 from a replayed NMEA log; chronyd then tempus select GPS (#*); tempus serves stratum 1 refid GPS",
  ignore: gpsdMissing.length > 0,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-gpsd-" });
    const start = Math.ceil(Date.now() / 1000) + 2;
    // Longer than the test's worst case (two 60 s selections and the queries after them).
    await Deno.writeTextFile(`${dir}/gps.nmea`, nmeaLog(start, 300));
    const tempusCmd = freeUdpPort();
    const chronyCmd = freeUdpPort();
    const gpsd = startBackground("python3", [
      `${REPO_ROOT}tests/helpers/nmea_replay.py`,
      `${dir}/gps.nmea`,
      String(start),
      `${dir}/gpsd.sock`,
      String(freeUdpPort()),
    ]);
    const startChronyd = () =>
      startBackground("chronyd", [
        "-x",
        "-d",
        "-u",
        "root",
        `pidfile ${dir}/chronyd.pid`,
        `cmdport ${chronyCmd}`,
        "bindcmdaddress 127.0.0.1",
        "port 0",
        "refclock SHM 0 refid GPS poll 2",
      ]);
    const serve = canBind(SERVE_HOST, 123) && haveBinary("ntpdig");
    const startTempus = () =>
      startBackground(
        Deno.execPath(),
        tempusDaemonArgs([
          "-x",
          "-d",
          "refclock SHM 0 refid GPS poll 2",
          `pidfile ${dir}/tempus.pid`,
          `cmdport ${tempusCmd}`,
          "bindcmdaddress 127.0.0.1",
          ...(serve ? [`bindaddress ${SERVE_HOST}`, "port 123", "allow 127.0.0.0/8"] : []),
        ]),
      );
    let chronyd: ReturnType<typeof startBackground> | null = startChronyd();
    let tempus: ReturnType<typeof startBackground> | null = null;
    const chronyc = async (port: number, ...args: string[]) => {
      const out = await runCommand("chronyc", ["-n", "-h", "127.0.0.1", "-p", `${port}`, ...args]);
      return out.stdout + out.stderr;
    };
    try {
      const selects = async (name: string, port: number, daemon: { output(): string }) => {
        let last = "";
        await waitFor(
          async () => {
            last = await chronyc(port, "sources");
            return /^#\* GPS /m.test(last);
          },
          60_000,
          `${name} to select gpsd's SHM refclock`,
        ).catch((e) => {
          throw new Error(`${e.message}\n${last}\n${daemon.output()}\n${gpsd.output()}`);
        });
      };
      await selects("chronyd", chronyCmd, chronyd);
      await chronyd.stop();
      chronyd = null;
      tempus = startTempus();
      await selects("tempus", tempusCmd, tempus);
      const tracking = await chronyc(tempusCmd, "tracking");
      assert.match(tracking, /Reference ID +: 47505300 \(GPS\)/);
      assert.match(tracking, /Stratum +: 1/);
      // gpsd stamps the end of the sentence: the offset is the serial delay, well under 1 s.
      const rows = await chronyc(tempusCmd, "-c", "sources");
      const offset = Number(rows.trim().split(",")[8]);
      assert.ok(Math.abs(offset) < 0.5, `GPS offset ${offset} s`);
      if (serve) {
        // A stratum-1 server on gpsd's time: chronyd -Q, ntpdig and a plain query accept it,
        // once its root dispersion is small. For some 10 s after the first selection the
        // refclock's few samples give a skew of 1 s/s (1 000 000 ppm, chrony's bound), and the
        // root dispersion served grows at that rate since the reference time: 1-7 s, over a
        // client's maxdistance of 3 s, so chronyd -Q sent straight away never selected tempus
        // (measured 2026-12-07; chronyd 4.3 on the same replay shows the same skew and 1-7.7 s).
        let rootDispersion = Infinity;
        const settledAfter = performance.now();
        await waitFor(
          async () => {
            const m = (await chronyc(tempusCmd, "tracking")).match(
              /Root dispersion +: ([0-9.e+-]+) seconds/,
            );
            rootDispersion = m ? Number(m[1]) : Infinity;
            return rootDispersion < 0.1;
          },
          60_000,
          "tempus's root dispersion to fall below 0.1 s",
        );
        console.log(
          `  root dispersion ${rootDispersion} s after ${
            ((performance.now() - settledAfter) / 1000).toFixed(1)
          } s`,
        );
        const q = await chronydQuery(SERVE_HOST, 123).catch(async (e) => {
          const reply = await ntpQuery(SERVE_HOST).catch((q) => String(q));
          throw new Error(
            `${e.message}\ntempus answers ${JSON.stringify(reply)}\n${await chronyc(
              tempusCmd,
              "tracking",
            )}\n${tempus!.output()}`,
          );
        });
        assert.ok(Math.abs(q.offset) < 0.5, `chronyd -Q offset ${q.offset}`);
        const dig = await runCommand("ntpdig", ["-j", "-t", "2", "-p", "2", SERVE_HOST]);
        assert.equal(dig.code, 0, dig.stderr);
        assert.equal(JSON.parse(dig.stdout.trim().split("\n").pop()!).stratum, 1);
        assert.deepEqual(await ntpQuery(SERVE_HOST), { stratum: 1, refId: "GPS" });
      } else console.warn(`stratum-1 part skipped: cannot bind ${SERVE_HOST}:123 or no ntpdig`);
    } finally {
      await gpsd.stop();
      await tempus?.stop();
      await chronyd?.stop();
      // gpsd's segments (NTP0..7 and its own export "GPSD"), created by this test's gpsd.
      for (let key = 0x4e545030; key <= 0x4e545037; key++) {
        await runCommand("ipcrm", ["-M", `0x${key.toString(16)}`]).catch(() => {});
      }
      await runCommand("ipcrm", ["-M", "0x47505344"]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
