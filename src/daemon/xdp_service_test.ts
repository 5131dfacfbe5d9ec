import assert from "node:assert/strict";
import {
  addXdpServerStats,
  localIpv4Addresses,
  mergeXdpClients,
  nearLeapSecond,
  servedLine,
  xdpServedAddress,
  xdpServerErrors,
} from "./xdp_service.ts";
import { NullClockDriver } from "../clock/null.ts";
import { LocalClock } from "../core/local_clock.ts";
import { defaultConfig } from "../config/defaults.ts";
import { parseChronyConfText } from "../config/chrony_conf.ts";
import { parseTomlConfig } from "../config/toml.ts";
import { renderConfig } from "../config/render.ts";
import { VirtualScheduler } from "../../tests/helpers/discipline_testing.ts";
import type { ClientAccessReport, ServerStatsReport } from "../core/reports.ts";

/** A -x clock over fake CLOCK_REALTIME/CLOCK_MONOTONIC that the test moves. */
function fakeClock() {
  const time = { mono: 1_000_000_000_000n };
  const REALTIME_AT_ZERO = 1_796_000_000_000_000_000n;
  const source = { realtime: () => time.mono + REALTIME_AT_ZERO, monotonic: () => time.mono };
  const driver = new NullClockDriver({ timeSource: source });
  const sched = new VirtualScheduler();
  const clock = new LocalClock(driver, sched, { precision: 1e-9 });
  const served = {
    cook: (raw: bigint) => clock.cook(raw),
    rawFromRealtime: (rt: bigint) => driver.rawFromRealtime(rt),
    rawRateError: () => driver.readFrequencyPpm() * 1e-6,
    onChange: () => {},
  };
  const read = (id: number) => id === 0 ? source.realtime() : time.mono;
  return { time, clock, driver, served, read };
}

Deno.test("servedLine: the line predicts the cooked clock through a frequency and a slew", () => {
  const { time, clock, driver, served, read } = fakeClock();
  clock.accumulateFrequencyAndOffset(30, 0.02, 0.1); // +30 ppm, 20 ms to slew in over 5 s
  assert.ok(clock.slewFreqPpm > 1000);
  const line = servedLine(served, read);
  for (const step of [0n, 1_000_000n, 250_000_000n, 2_000_000_000n]) {
    time.mono += step;
    const actual = clock.cook(driver.readRawTime());
    const predicted = line.served +
      BigInt(Math.round(Number(time.mono - line.monotonicNs) * (1 + line.rateError)));
    assert.ok(actual - predicted <= 1n && predicted - actual <= 1n, `${actual - predicted} ns`);
  }
  // Ignoring the raw clock's rate would be off by 30 ppm and more.
  assert.ok(Math.abs(line.rateError - 30e-6) < 1e-9, `${line.rateError}`);
});

Deno.test("servedLine: the monotonic time is the midpoint of the tightest of three readings", () => {
  const { served } = fakeClock();
  const readings = [10n, 999n, 30n, 100n, 1_100n, 104n, 200n, 5_000n, 300n];
  let i = 0;
  const line = servedLine(served, () => readings[i++]);
  assert.equal(line.monotonicNs, 102n); // (100 + 104) / 2: width 4, the others 20 and 100
});

Deno.test("xdpServedAddress: a bound IPv4 address, any, or none", () => {
  assert.equal(xdpServedAddress([]), null);
  assert.equal(xdpServedAddress(["0.0.0.0", "::"]), null);
  assert.equal(xdpServedAddress(["::"]), null);
  assert.equal(xdpServedAddress(["192.0.2.1", "::"]), "192.0.2.1");
  assert.equal(xdpServedAddress(["2001:db8::1"]), undefined);
});

Deno.test("xdpserver: refused with what the kernel cannot honour", () => {
  const config = { ...defaultConfig(), xdpServer: ["eth0"] };
  assert.deepEqual(xdpServerErrors(config), []);
  assert.deepEqual(xdpServerErrors({ ...config, xdpServer: null }), []);
  assert.deepEqual(
    xdpServerErrors({ ...config, rateLimit: { interval: 3, burst: 8, leak: 2, kod: 0 } }),
    [],
  );
  const errors = xdpServerErrors({
    ...config,
    port: 0,
    smoothTime: { maxFreqPpm: 400, maxWanderPpm: 0.001, leapOnly: false },
    bindAddresses: ["2001:db8::1"],
  });
  assert.equal(errors.length, 3);
  assert.match(
    xdpServerErrors({ ...config, xdpServer: ["eth0", "eth1"], bindDevice: "eth0" }).join(),
    /xdpserver eth1: the server is bound to eth0/,
  );
  assert.deepEqual(xdpServerErrors({ ...config, bindDevice: "eth0" }), []);
  assert.match(errors.join("\n"), /port is 0/);
  assert.match(errors.join("\n"), /smoothtime/);
  assert.match(errors.join("\n"), /IPv4 only/);
});

Deno.test("xdpserver: chrony.conf, TOML and rendering agree; bad names are refused", () => {
  const r = parseChronyConfText("xdpserver eth0 lo\nxdpserver eth0\n", "t.conf");
  assert.ok(r.ok);
  assert.deepEqual(r.config.xdpServer, ["eth0", "lo"]);
  assert.match(renderConfig(r.config), /^xdpserver eth0 lo$/m);
  const t = parseTomlConfig('[server]\nxdpserver = ["eth1"]\n', "t.toml");
  assert.ok(t.ok);
  assert.deepEqual(t.config.xdpServer, ["eth1"]);
  assert.equal(parseChronyConfText("xdpserver\n", "t.conf").ok, false);
  assert.equal(parseChronyConfText("xdpserver eth0/1\n", "t.conf").ok, false);
  assert.equal(parseChronyConfText("xdpserver averyveryverylongname\n", "t.conf").ok, false);
  assert.equal(defaultConfig().xdpServer, null);
  const m = parseChronyConfText("xdpserver eth0\nxdpmode GENERIC\n", "t.conf");
  assert.ok(m.ok);
  assert.equal(m.config.xdpMode, "generic");
  assert.match(renderConfig(m.config), /^xdpmode generic$/m);
  assert.doesNotMatch(renderConfig(r.config), /xdpmode/); // auto, the default
  assert.equal(parseChronyConfText("xdpmode offload\n", "t.conf").ok, false);
  const tm = parseTomlConfig('[server]\nxdpmode = "native"\n', "t.toml");
  assert.ok(tm.ok);
  assert.equal(tm.config.xdpMode, "native");
});

Deno.test("mergeXdpClients: kernel hits are added, new clients appended", () => {
  const known: ClientAccessReport = {
    address: "192.0.2.1",
    ntpHits: 3,
    ntpDrops: 1,
    cmdHits: 0,
    cmdDrops: 0,
    ntpInterval: 4,
    cmdInterval: 127,
    lastNtpHitAgo: 10,
    lastCmdHitAgo: 0xffff_ffff,
  };
  const merged = mergeXdpClients([known], [
    { address: "192.0.2.1", hits: 5, drops: 2, lastMonotonicNs: 98_000_000_000n },
    { address: "192.0.2.9", hits: 7, drops: 0, lastMonotonicNs: 99_600_000_000n },
  ], 100_000_000_000n);
  assert.equal(known.ntpHits, 3); // not modified
  assert.deepEqual(merged.map((c) => [c.address, c.ntpHits, c.ntpDrops, c.lastNtpHitAgo]), [
    ["192.0.2.1", 8, 3, 2],
    ["192.0.2.9", 7, 0, 0],
  ]);
  assert.equal(merged[1].ntpInterval, 127);
});

Deno.test("addXdpServerStats: the kernel's requests, drops and replies with kernel times", () => {
  const stats = {
    ntpHits: 2,
    ntpDrops: 1,
    ntpKernelRxTimestamps: 2,
    ntpKernelTxTimestamps: 1,
  } as ServerStatsReport;
  const sum = addXdpServerStats(stats, { answered: 10, limited: 5, kod: 2 });
  assert.equal(sum.ntpHits, 17);
  assert.equal(sum.ntpDrops, 6);
  assert.equal(sum.ntpKernelRxTimestamps, 14);
  assert.equal(sum.ntpKernelTxTimestamps, 13);
});

Deno.test("nearLeapSecond: five seconds either side of midnight UTC, only with a leap announced", () => {
  const midnight = 1_798_761_600n * 1_000_000_000n; // 2027-01-01T00:00:00Z
  const at = (s: number) => midnight + BigInt(Math.round(s * 1e9));
  assert.equal(nearLeapSecond(1, at(-5)), true);
  assert.equal(nearLeapSecond(2, at(-0.1)), true);
  assert.equal(nearLeapSecond(1, at(4.9)), true);
  assert.equal(nearLeapSecond(1, at(-5.1)), false);
  assert.equal(nearLeapSecond(1, at(5)), false);
  assert.equal(nearLeapSecond(0, at(-1)), false);
  assert.equal(nearLeapSecond(3, at(-1)), false);
});

Deno.test("localIpv4Addresses: this host's, loopback among them, each once", () => {
  const list = localIpv4Addresses().map((a) => a.join("."));
  assert.ok(list.includes("127.0.0.1"), list.join());
  assert.equal(new Set(list).size, list.length);
});
