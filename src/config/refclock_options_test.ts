import assert from "node:assert/strict";
import { parseTomlConfig } from "./toml.ts";
import { formatDiagnostic } from "./diagnostics.ts";
import {
  checkRefclockLocks,
  DEFAULT_REFCLOCK,
  defaultRefId,
  parseNmeaParameter,
  parsePhcParameter,
  parsePpsParameter,
  parseRefclockArgs,
  parseRtcParameter,
  parseShmParameter,
  renderRefclock,
} from "./refclock_options.ts";

function ok(line: string) {
  const r = parseRefclockArgs(line.split(" "));
  if (!r.ok) assert.fail(r.error);
  return r.refclock;
}

function err(line: string): string {
  const r = parseRefclockArgs(line.split(" "));
  assert.equal(r.ok, false, `${line} accepted`);
  return r.ok ? "" : r.error;
}

Deno.test("refclock: chrony's defaults", () => {
  const r = ok("SHM 0");
  assert.deepEqual({ ...r, driver: undefined, parameter: undefined, origin: undefined }, {
    ...DEFAULT_REFCLOCK,
    driver: undefined,
    parameter: undefined,
    origin: undefined,
  });
  assert.equal(r.poll, 4);
  assert.equal(r.dpoll, 0);
  assert.equal(r.filter, 64);
  assert.equal(r.delay, 1e-9);
  assert.equal(r.stratum, 0);
});

Deno.test("refclock: every implemented option, case-insensitive driver and options", () => {
  const r = ok(
    "sock /run/chrony.ttyS0.sock REFID GPS poll 2 dpoll -1 filter 10 offset -0.5 delay 0.2 " +
      "precision 1e-6 stratum 3 maxdispersion 0.01 minsamples 4 maxsamples 20 maxunreach 5 " +
      "prefer noselect trust require",
  );
  assert.equal(r.driver, "SOCK");
  assert.deepEqual(
    [r.refId, r.poll, r.dpoll, r.filter, r.offset, r.delay, r.precision, r.stratum],
    ["GPS", 2, -1, 10, -0.5, 0.2, 1e-6, 3],
  );
  assert.deepEqual([r.maxDispersion, r.minSamples, r.maxSamples, r.maxUnreach], [0.01, 4, 20, 5]);
  assert.deepEqual([r.prefer, r.noselect, r.trust, r.require], [true, true, true, true]);
  // The rendered line parses back to the same refclock.
  assert.deepEqual(ok(renderRefclock(r).split(" ").slice(1).join(" ")), r);
});

Deno.test("refclock: what is not implemented is refused, never ignored", () => {
  assert.match(err("PHC /dev/ptp0:extpps"), /'extpps' is not implemented yet/);
  assert.match(err("PHC /dev/ptp0:pin=1"), /'pin' is not implemented yet/);
  assert.match(err("PHC eth0:foo"), /unknown driver option/);
  assert.match(err("RTC rtc0"), /must be absolute/);
  assert.match(err("RTC /dev/rtc0:local"), /unknown driver option/);
  assert.match(err("SHM 0 local lock GPS"), /local locks the refclock to itself/);
  assert.match(err("PPS pps0"), /must be absolute/);
  assert.match(err("PPS /dev/pps0:assert"), /unknown driver option/);
  assert.match(err("NMEA /dev/ttyS0:baud=1234"), /unsupported baud rate/);
  assert.match(err("NMEA /dev/ttyS0:parity=odd"), /unknown driver option/);
  assert.match(err("PPS /dev/pps0 rate 0"), /out of range/);
  assert.match(err("PPS /dev/pps0 width -1"), /out of range/);
  assert.match(err("PPS /dev/pps0 lock"), /lock needs a value/);
  assert.match(err("PPS /dev/pps0 lock TOOLONG"), /invalid lock refid/);
  assert.match(err("SHM 0:perm=0944"), /unknown driver option/);
  assert.match(err("SHM 0:owner=x"), /unknown driver option/);
  assert.match(err("SOCK /run/x.sock:foo"), /driver options/);
  assert.match(err("GPSD /dev/ttyS0"), /unknown refclock driver/);
  assert.match(err("SHM"), /expected DRIVER PARAMETER/);
  assert.match(err("SHM 256"), /invalid unit/);
  assert.match(err("SHM 0 poll"), /poll needs a value/);
  assert.match(err("SHM 0 poll 2.5"), /expected an integer/);
  assert.match(err("SHM 0 stratum 16"), /out of range/);
  assert.match(err("SHM 0 refid TOOLONG"), /invalid refid/);
  assert.match(err("SHM 0 iburst"), /unknown option/);
});

Deno.test("refclock SHM: chrony's UNIT:perm=MODE", () => {
  assert.equal(ok("SHM 1:perm=0644").parameter, "1:perm=0644");
  assert.deepEqual(parseShmParameter("1:perm=0644"), { unit: 1, perm: 0o644 });
  assert.deepEqual(parseShmParameter("2"), { unit: 2, perm: 0o600 });
});

Deno.test("refclock: chrony's default refids", () => {
  assert.equal(defaultRefId("SHM", 0), "SHM0");
  assert.equal(defaultRefId("SOCK", 1), "SOC1");
  assert.equal(defaultRefId("SHM", 12), "SH12");
});

Deno.test("refclock in TOML: [[refclock]] tables, errors with the table's line", () => {
  const r = parseTomlConfig(
    `[[refclock]]\ndriver = "SHM"\nparameter = 0\nrefid = "GPS"\npoll = 3\nprefer = true\n`,
    "t.toml",
  );
  if (!r.ok) assert.fail(r.errors.map(formatDiagnostic).join("\n"));
  const [rc] = r.config.refclocks;
  assert.deepEqual([rc.driver, rc.parameter, rc.refId, rc.poll, rc.prefer], [
    "SHM",
    "0",
    "GPS",
    3,
    true,
  ]);
  assert.match(rc.origin, /^t\.toml:\d+$/);
  const local = parseTomlConfig(
    `[[refclock]]\ndriver = "PHC"\nparameter = "/dev/ptp0"\nlocal = true\npoll = 2\n`,
    "l.toml",
  );
  if (!local.ok) assert.fail(local.errors.map(formatDiagnostic).join("\n"));
  assert.deepEqual([local.config.refclocks[0].local, local.config.refclocks[0].poll], [true, 2]);
  const bad = parseTomlConfig(
    `[[refclock]]\ndriver = "SOCK"\nparameter = "/run/x.sock"\nlocal = true\nlock = "X"\n`,
    "b.toml",
  );
  assert.equal(bad.ok, false);
  assert.match(
    bad.ok ? "" : formatDiagnostic(bad.errors[0]),
    /b\.toml:\d+: .*local locks the refclock to itself/,
  );
  const pps = parseTomlConfig(
    `[[refclock]]\ndriver = "NMEA"\nparameter = "/dev/ttyS0:baud=4800"\nrefid = "NMEA"\n` +
      `[[refclock]]\ndriver = "PPS"\nparameter = "/dev/pps0"\nlock = "NMEA"\nwidth = 0.1\n` +
      `rate = 1\nmaxlockage = 4\ntai = true\n`,
    "p.toml",
  );
  if (!pps.ok) assert.fail(pps.errors.map(formatDiagnostic).join("\n"));
  const [, p] = pps.config.refclocks;
  assert.deepEqual([p.lock, p.width, p.rate, p.maxLockAge, p.tai], ["NMEA", 0.1, 1, 4, true]);
});

Deno.test("refclock: chrony's PHC and RTC parameters", () => {
  assert.deepEqual(parsePhcParameter(ok("PHC /dev/ptp0:nocrossts tai").parameter), {
    device: "/dev/ptp0",
    nocrossts: true,
  });
  assert.deepEqual(parsePhcParameter("eth0"), { device: "eth0", nocrossts: false });
  assert.deepEqual(parseRtcParameter(ok("RTC /dev/rtc0:utc").parameter), {
    device: "/dev/rtc0",
    utc: true,
  });
  assert.deepEqual(parseRtcParameter("/dev/rtc1"), { device: "/dev/rtc1", utc: false });
});

Deno.test("refclock: the pulse options, and locks that name a refclock", () => {
  const nmea = ok("NMEA /dev/ttyUSB0:baud=4800 refid NMEA offset 0.35 noselect");
  assert.deepEqual(parseNmeaParameter(nmea.parameter), { device: "/dev/ttyUSB0", baud: 4800 });
  assert.deepEqual(parseNmeaParameter("/dev/ttyS1"), { device: "/dev/ttyS1", baud: 9600 });
  assert.deepEqual(parsePpsParameter("/dev/pps1:clear"), { device: "/dev/pps1", clear: true });
  const pps = ok("PPS /dev/pps0 lock NMEA rate 2 width 0.2 maxlockage 5 pps tai prefer");
  assert.deepEqual(
    [pps.lock, pps.rate, pps.width, pps.maxLockAge, pps.pps, pps.tai],
    ["NMEA", 2, 0.2, 5, true, true],
  );
  assert.deepEqual(ok(renderRefclock(pps).split(" ").slice(1).join(" ")), pps);
  assert.deepEqual(checkRefclockLocks([nmea, pps]), []);
  assert.match(checkRefclockLocks([pps])[0], /no refclock with refid NMEA/);
  const self = ok("PPS /dev/pps0 refid PPS lock PPS");
  assert.match(checkRefclockLocks([self])[0], /cannot lock to itself/);
  // A default refid counts: the first refclock is SHM0.
  assert.deepEqual(checkRefclockLocks([ok("SHM 0"), ok("PPS /dev/pps0 lock SHM0")]), []);
});

Deno.test("refclock local: chrony 4.3's local frequency standard, at most one", () => {
  const r = ok("PHC /dev/ptp0 local poll 2");
  assert.deepEqual([r.local, r.poll, r.lock], [true, 2, null]);
  assert.equal(DEFAULT_REFCLOCK.local, false);
  assert.deepEqual(ok(renderRefclock(r).split(" ").slice(1).join(" ")), r);
  assert.match(renderRefclock(r), / local$/);
  assert.deepEqual(checkRefclockLocks([r, ok("SHM 0")]), []);
  assert.match(
    checkRefclockLocks([r, ok("SHM 0 local")])[0],
    /more than one refclock with 'local'/,
  );
  assert.match(err("SHM 0 lock PPS1 local"), /local locks the refclock to itself/);
  assert.match(err("SHM 0 local tai"), /tai has no effect with local/);
});
