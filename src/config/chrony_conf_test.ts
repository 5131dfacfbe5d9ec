import assert from "node:assert/strict";
import {
  type ConfParseResult,
  denoConfReader,
  expandGlob,
  parseChronyConf,
  parseChronyConfText,
  readSourceDirs,
  tokenizeLine,
} from "./chrony_conf.ts";
import { DEFAULT_SOURCE_PARAMS, defaultConfig } from "./defaults.ts";
import { formatDiagnostic } from "./diagnostics.ts";
import type { Config } from "./model.ts";
import { memReader } from "../../tests/helpers/mem_reader.ts";

function ok(text: string): Config {
  const r = parseChronyConfText(text, "test.conf");
  if (!r.ok) assert.fail(r.errors.map(formatDiagnostic).join("\n"));
  return r.config;
}

function errors(r: ConfParseResult): string[] {
  return r.ok ? [] : r.errors.map(formatDiagnostic);
}

function fails(text: string): string[] {
  const r = parseChronyConfText(text, "test.conf");
  assert.equal(r.ok, false, `expected errors for:\n${text}`);
  return errors(r);
}

Deno.test("tokenizeLine: comments of every kind and blank lines are skipped", () => {
  for (const l of ["", "   ", "# x", "! x", "; x", "% x", "   # indented", "\t! tab"]) {
    assert.equal(tokenizeLine(l), null, l);
  }
  assert.deepEqual(tokenizeLine("  server   a.example\tiburst "), [
    "server",
    "a.example",
    "iburst",
  ]);
});

Deno.test("empty file gives the chrony defaults", () => {
  assert.deepEqual(ok("# nothing\n\n"), defaultConfig());
});

Deno.test("directive names and options are case-insensitive; CRLF lines work", () => {
  const c = ok("SERVER a.example IBurst MinPoll 4\r\nMakeStep 1.0 3\r\n");
  assert.equal(c.sources[0].params.iburst, true);
  assert.equal(c.sources[0].params.minPoll, 4);
  assert.deepEqual(c.makeStep, { threshold: 1, limit: 3 });
});

Deno.test("server with every option", () => {
  const c = ok(
    "server ntp.example iburst burst minpoll -2 maxpoll 8 prefer noselect trust require " +
      "offline auto_offline maxdelay 0.3 maxdelayratio 2.5 maxdelaydevratio 4 mindelay 0.001 " +
      "asymmetry -0.25 offset 0.0001 polltarget 12 presend 9 port 1123 version 3 key 42 " +
      "minsamples 8 maxsamples 32 maxunreach 5 filter 3 minstratum 2 xleave\n",
  );
  const s = c.sources[0];
  assert.equal(s.type, "server");
  assert.equal(s.name, "ntp.example");
  assert.equal(s.origin, "test.conf:1");
  assert.deepEqual(s.params, {
    ...DEFAULT_SOURCE_PARAMS,
    iburst: true,
    burst: true,
    minPoll: -2,
    maxPoll: 8,
    prefer: true,
    noselect: true,
    trust: true,
    require: true,
    offline: true,
    autoOffline: true,
    maxDelay: 0.3,
    maxDelayRatio: 2.5,
    maxDelayDevRatio: 4,
    minDelay: 0.001,
    asymmetry: -0.25,
    offset: 0.0001,
    pollTarget: 12,
    presend: 9,
    port: 1123,
    version: 3,
    key: 42,
    minSamples: 8,
    maxSamples: 32,
    maxUnreach: 5,
    filter: 3,
    minStratum: 2,
    xleave: true,
  });
});

Deno.test("delaygate, tempus's delay gate, is a flag of server, pool and peer", () => {
  const c = ok("server 192.0.2.1 delaygate\npool pool.example delaygate\npeer 192.0.2.5\n");
  assert.deepEqual(c.sources.map((s) => s.params.delayGate), [true, true, undefined]);
});

Deno.test("pool maxsources; peer; sources keep order and origin", () => {
  const c = ok("pool pool.ntp.org iburst maxsources 3\npeer 192.0.2.5\nserver 2001:db8::1\n");
  assert.deepEqual(c.sources.map((s) => [s.type, s.name, s.origin]), [
    ["pool", "pool.ntp.org", "test.conf:1"],
    ["peer", "192.0.2.5", "test.conf:2"],
    ["server", "2001:db8::1", "test.conf:3"],
  ]);
  assert.equal(c.sources[0].params.maxSources, 3);
  assert.match(fails("server a maxsources 3").join(), /maxsources.*only in pool/);
});

Deno.test("unsupported source options are clear errors naming file and line", () => {
  for (const opt of ["certset 1", "extfield F323", "copy"]) {
    const e = fails(`# c\nserver a.example ${opt}\n`);
    assert.equal(e.length, 1);
    assert.match(
      e[0],
      new RegExp(`^test\\.conf:2: server: option '${opt.split(" ")[0]}' is not supported`),
    );
  }
  assert.match(fails("server a.example bogus")[0], /unknown option 'bogus'/);
  assert.match(fails("server")[0], /missing host name/);
  assert.match(fails("server a minpoll")[0], /needs a value/);
});

Deno.test("source option ranges follow chrony", () => {
  assert.match(fails("server a minpoll -8")[0], /minpoll value -8 out of range \(-7\.\.24\)/);
  assert.match(fails("server a maxpoll 25")[0], /out of range/);
  assert.match(fails("server a polltarget 5")[0], /polltarget value 5 out of range \(6\.\.60\)/);
  assert.match(fails("server a polltarget 61")[0], /out of range/);
  assert.match(fails("server a asymmetry 0.6")[0], /out of range/);
  assert.match(fails("server a maxdelay 1001")[0], /out of range/);
  assert.match(fails("server a version 5")[0], /out of range/);
  assert.match(fails("server a port 0")[0], /out of range/);
  assert.match(fails("server a minpoll 4.5")[0], /expected an integer/);
  assert.match(fails("server a maxdelay abc")[0], /expected a number/);
  assert.match(fails("pool p maxsources 17")[0], /out of range/);
  assert.ok(ok("server a minpoll -7 maxpoll 24 polltarget 6").sources.length === 1);
});

Deno.test("maxpoll below minpoll is raised with a warning", () => {
  const r = parseChronyConfText("server a minpoll 8 maxpoll 6\n", "t.conf");
  assert.ok(r.ok);
  assert.equal(r.config.sources[0].params.maxPoll, 8);
  assert.match(formatDiagnostic(r.warnings[0]), /^t\.conf:1: .*maxpoll 6 is below minpoll 8/);
});

Deno.test("global directives", () => {
  const c = ok(`
driftfile /var/lib/tempus/drift interval 600
makestep 0.1 -1
maxslewrate 500
maxupdateskew 100.0
maxchange 1000 1 2
maxdrift 500
maxclockerror 10
corrtimeratio 10
clockprecision 8e-9
maxdistance 16
maxjitter 0.5
minsources 2
maxstratum 10
reselectdist 1e-3
stratumweight 0.01
combinelimit 0
minsamples 8
maxsamples 16
fallbackdrift 16 19
leapsecmode slew
leapsectz right/UTC
leapseclist /usr/share/zoneinfo/leap-seconds.list
manual
rtcfile /var/lib/tempus/rtc
rtcdevice /dev/rtc1
rtconutc
rtcautotrim 30
hwclockfile /etc/adjtime
port 11123
bindaddress 192.0.2.1
bindaddress ::1
clientloglimit 1048576
noclientlog
cmdport 0
logdir /var/log/tempus
log measurements statistics tracking
log rtc
logbanner 0
logchange 0.5
pidfile /run/tempus.pid
dumpdir /var/lib/tempus
user tempus
acquisitionport 0
keyfile /etc/tempus.keys
refresh 3600
`);
  assert.equal(c.driftFile, "/var/lib/tempus/drift");
  assert.equal(c.driftFileInterval, 600);
  assert.deepEqual(c.makeStep, { threshold: 0.1, limit: -1 });
  assert.equal(c.maxSlewRate, 500);
  assert.equal(c.maxUpdateSkew, 100);
  assert.deepEqual(c.maxChange, { offset: 1000, start: 1, ignore: 2 });
  assert.equal(c.maxDrift, 500);
  assert.equal(c.maxClockError, 10);
  assert.equal(c.corrTimeRatio, 10);
  assert.equal(c.clockPrecision, 8e-9);
  assert.equal(c.maxDistance, 16);
  assert.equal(c.maxJitter, 0.5);
  assert.equal(c.minSources, 2);
  assert.equal(c.maxStratum, 10);
  assert.equal(c.reselectDist, 1e-3);
  assert.equal(c.stratumWeight, 0.01);
  assert.equal(c.combineLimit, 0);
  assert.equal(c.minSamples, 8);
  assert.equal(c.maxSamples, 16);
  assert.deepEqual(c.fallbackDrift, { min: 16, max: 19 });
  assert.equal(c.leapSecMode, "slew");
  assert.equal(c.leapSecTz, "right/UTC");
  assert.equal(c.leapSecList, "/usr/share/zoneinfo/leap-seconds.list");
  assert.equal(c.manual, true);
  assert.equal(c.rtcFile, "/var/lib/tempus/rtc");
  assert.equal(c.rtcDevice, "/dev/rtc1");
  assert.equal(c.rtcOnUtc, true);
  assert.equal(c.rtcAutoTrim, 30);
  assert.equal(c.hwclockFile, "/etc/adjtime");
  assert.equal(c.port, 11123);
  assert.deepEqual(c.bindAddresses, ["192.0.2.1", "::1"]);
  assert.equal(c.clientLogLimit, 1048576);
  assert.equal(c.noClientLog, true);
  assert.equal(c.cmdPort, 0);
  assert.equal(c.logDir, "/var/log/tempus");
  assert.deepEqual(c.logKinds, ["measurements", "statistics", "tracking", "rtc"]);
  assert.equal(c.logBanner, 0);
  assert.equal(c.logChange, 0.5);
  assert.equal(c.pidFile, "/run/tempus.pid");
  assert.equal(c.dumpDir, "/var/lib/tempus");
  assert.equal(c.user, "tempus");
  assert.equal(c.acquisitionPort, 0);
  assert.equal(c.keyFile, "/etc/tempus.keys");
  assert.equal(c.refresh, 3600);
});

Deno.test("the last of a repeated single-valued directive wins", () => {
  const c = ok("makestep 1 3\nmakestep 0.5 1\nmaxdistance 1\nmaxdistance 2\n");
  assert.deepEqual(c.makeStep, { threshold: 0.5, limit: 1 });
  assert.equal(c.maxDistance, 2);
});

Deno.test("driftfile forms and errors", () => {
  assert.equal(ok("driftfile interval 60 /d").driftFileInterval, 60);
  assert.equal(ok("driftfile /d").driftFileInterval, 3600);
  assert.match(fails("driftfile")[0], /missing file name/);
  assert.match(fails("driftfile /a /b")[0], /unexpected argument/);
  assert.match(fails("driftfile /a interval 0")[0], /out of range/);
});

Deno.test("argument counts are checked", () => {
  assert.match(fails("makestep 1")[0], /missing argument/);
  assert.match(fails("makestep 1 3 4")[0], /too many arguments \('4'\)/);
  assert.match(fails("rtcsync now")[0], /takes no arguments/);
  assert.match(fails("maxchange 1 2")[0], /missing argument/);
  assert.match(fails("logdir")[0], /missing argument/);
});

Deno.test("value ranges of global directives", () => {
  assert.match(fails("clockprecision 2")[0], /out of range/);
  assert.match(fails("maxstratum 16")[0], /out of range/);
  assert.match(fails("minsources 0")[0], /out of range/);
  assert.match(fails("maxdistance 0")[0], /out of range/);
  assert.match(fails("port 65536")[0], /out of range/);
  assert.match(fails("maxsamples 65")[0], /out of range/);
  assert.match(fails("leapsecmode smear")[0], /unknown mode 'smear'/);
  assert.match(fails("fallbackdrift 19 16")[0], /below min-interval/);
  assert.equal(ok("fallbackdrift 0 19").fallbackDrift, null);
  assert.match(fails("log tempcomps")[0], /unknown log 'tempcomps'/);
  assert.match(fails("log everything")[0], /unknown log 'everything'/);
});

Deno.test("allow/deny in chrony's subnet forms", () => {
  const c = ok(`allow 1.2.3.4
allow 3.4.5.0/24
allow 3.4.5
allow 192.168/16
allow 2001:db8::/32
allow 0/0
allow ::/0
allow
deny 10
deny all 1.2.0.0/16
allow all
deny 192.168.1.77/24
`);
  assert.deepEqual(c.ntpAccess, [
    { allow: true, subnet: "1.2.3.4/32", all: false },
    { allow: true, subnet: "3.4.5.0/24", all: false },
    { allow: true, subnet: "3.4.5.0/24", all: false },
    { allow: true, subnet: "192.168.0.0/16", all: false },
    { allow: true, subnet: "2001:db8::/32", all: false },
    { allow: true, subnet: "0.0.0.0/0", all: false },
    { allow: true, subnet: "::/0", all: false },
    { allow: true, subnet: "all", all: false },
    { allow: false, subnet: "10.0.0.0/8", all: false },
    { allow: false, subnet: "1.2.0.0/16", all: true },
    { allow: true, subnet: "all", all: true },
    { allow: false, subnet: "192.168.1.0/24", all: false },
  ]);
  assert.match(fails("allow ntp.example.com")[0], /invalid subnet.*host names are not supported/);
  assert.match(fails("allow 1.2.3.4 5.6.7.8")[0], /too many arguments/);
  assert.match(fails("allow 1.2.3.256")[0], /invalid subnet/);
  assert.match(fails("deny ::/129")[0], /too long/);
});

Deno.test("cmdallow/cmddeny go to the command access list", () => {
  const c = ok("cmdallow 192.168/16\ncmddeny all\n");
  assert.deepEqual(c.cmdAccess, [
    { allow: true, subnet: "192.168.0.0/16", all: false },
    { allow: false, subnet: "all", all: true },
  ]);
  assert.deepEqual(c.ntpAccess, []);
});

Deno.test("bindcmdaddress: IP per family, Unix socket path, '/' disables the socket", () => {
  const c = ok("bindcmdaddress 0.0.0.0\nbindcmdaddress /run/t/t.sock\n");
  assert.deepEqual(c.bindCmdAddresses, ["::1", "0.0.0.0"]);
  assert.equal(c.cmdSocket, "/run/t/t.sock");
  const d = ok("bindcmdaddress ::\nbindcmdaddress /\n");
  assert.deepEqual(d.bindCmdAddresses, ["127.0.0.1", "::"]);
  assert.equal(d.cmdSocket, null);
  assert.match(fails("bindcmdaddress localhost")[0], /invalid address/);
});

Deno.test("local with options; orphan waits 300 s unless told otherwise", () => {
  assert.deepEqual(ok("local").local, {
    stratum: 10,
    distance: 1,
    orphan: false,
    waitUnsynced: 0,
    waitSynced: 0,
    activate: 0,
  });
  assert.deepEqual(ok("local stratum 8 orphan distance 0.1").local, {
    stratum: 8,
    distance: 0.1,
    orphan: true,
    waitUnsynced: 300,
    waitSynced: 0,
    activate: 0,
  });
  const l = ok("local orphan waitunsynced 60 waitsynced 100 activate 0.5").local;
  assert.equal(l?.waitUnsynced, 60);
  assert.equal(l?.waitSynced, 100);
  assert.equal(l?.activate, 0.5);
  assert.match(fails("local stratum 16")[0], /out of range/);
  assert.match(fails("local bogus")[0], /unknown option/);
});

Deno.test("ratelimit with defaults and options", () => {
  assert.deepEqual(ok("ratelimit").rateLimit, { interval: 3, burst: 8, leak: 2, kod: 0 });
  assert.deepEqual(ok("ratelimit interval 1 burst 16 leak 3 kod 1").rateLimit, {
    interval: 1,
    burst: 16,
    leak: 3,
    kod: 1,
  });
  assert.match(fails("ratelimit interval 13")[0], /out of range/);
  assert.match(fails("ratelimit burst 0")[0], /out of range/);
  assert.match(fails("ratelimit leak 5")[0], /out of range/);
  assert.match(fails("ratelimit speed 3")[0], /unknown option/);
});

Deno.test("legacy directives warn; unknown directives are errors with file:line", () => {
  const r = parseChronyConfText(
    "dumponexit\ncommandkey 1\ngeneratecommandkey\nlinux_freq_scale 1\nlinux_hz 100\n",
    "l.conf",
  );
  assert.ok(r.ok);
  assert.equal(r.warnings.length, 5);
  assert.match(formatDiagnostic(r.warnings[1]), /^l\.conf:2: commandkey: obsolete/);
  const e = fails("server a\n\nmailonchange root 0.5\nhwtimestamp eth0\nfrobnicate\n");
  assert.deepEqual(e, [
    "test.conf:3: unknown or unsupported directive 'mailonchange'",
    "test.conf:4: unknown or unsupported directive 'hwtimestamp'",
    "test.conf:5: unknown or unsupported directive 'frobnicate'",
  ]);
});

Deno.test("rtcsync with rtcfile is refused", () => {
  assert.deepEqual(fails("rtcsync\n\nrtcfile /x"), [
    "test.conf:3: rtcsync cannot be used together with rtcfile",
  ]);
});

Deno.test("include with a glob, in sorted order, errors located in the included file", () => {
  const reader = memReader({
    "/etc/t/main.conf": "include /etc/t/d/*.conf\nserver last\n",
    "/etc/t/d/b.conf": "server b\n",
    "/etc/t/d/a.conf": "server a\n",
    "/etc/t/d/c.txt": "garbage here\n",
  });
  const r = parseChronyConf("/etc/t/main.conf", reader);
  assert.ok(r.ok);
  assert.deepEqual(r.config.sources.map((s) => `${s.name}@${s.origin}`), [
    "a@/etc/t/d/a.conf:1",
    "b@/etc/t/d/b.conf:1",
    "last@/etc/t/main.conf:2",
  ]);
  const bad = memReader({
    "/m.conf": "include /inc.conf\n",
    "/inc.conf": "\nserver a minpoll 99\n",
  });
  assert.deepEqual(errors(parseChronyConf("/m.conf", bad)), [
    "/inc.conf:2: server: minpoll value 99 out of range (-7..24)",
  ]);
});

Deno.test("include of a missing file is an error; a glob matching nothing is not", () => {
  const reader = memReader({ "/m.conf": "include /nope.conf\n" });
  assert.match(
    errors(parseChronyConf("/m.conf", reader))[0],
    /^\/m\.conf:1: cannot read '\/nope\.conf'/,
  );
  const r = parseChronyConf("/g.conf", memReader({ "/g.conf": "include /none/*.conf\n" }));
  assert.ok(r.ok);
});

Deno.test("include loops are detected and reported with their chain", () => {
  const r = parseChronyConf("/a.conf", memReader({ "/a.conf": "include /a.conf\n" }));
  assert.equal(r.ok, false);
  assert.match(errors(r)[0], /include loop: \/a\.conf -> \/a\.conf/);
});

Deno.test("include nesting deeper than 10 distinct files is an error", () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 12; i++) files[`/f${i}.conf`] = `include /f${i + 1}.conf\n`;
  const r = parseChronyConf("/f0.conf", memReader(files));
  assert.equal(r.ok, false);
  assert.match(errors(r)[0], /nesting deeper than 10/);
});

Deno.test("confdir: *.conf sorted, the first directory wins per file name", () => {
  const reader = memReader({
    "/etc/main.conf": "confdir /etc/c1 /usr/c2\n",
    "/etc/c1/20-b.conf": "server c1b\n",
    "/usr/c2/20-b.conf": "server c2b\n",
    "/usr/c2/10-a.conf": "server c2a\n",
    "/usr/c2/README": "not a conf\n",
  });
  const r = parseChronyConf("/etc/main.conf", reader);
  assert.ok(r.ok, errors(r).join());
  assert.deepEqual(r.config.sources.map((s) => s.name), ["c2a", "c1b"]);
});

Deno.test("sourcedir: *.sources hold only server/pool/peer; missing dirs are fine", () => {
  const reader = memReader({
    "/etc/main.conf": "sourcedir /run/dhcp /etc/src\n",
    "/etc/src/eth0.sources": "# from DHCP\nserver 192.0.2.1 iburst\npool p.example\n",
  });
  const r = parseChronyConf("/etc/main.conf", reader);
  assert.ok(r.ok, errors(r).join());
  assert.deepEqual(r.config.sources.map((s) => s.name), ["192.0.2.1", "p.example"]);
  assert.deepEqual(r.config.sourceDirs, ["/run/dhcp", "/etc/src"]);
  const bad = memReader({
    "/m.conf": "sourcedir /s\n",
    "/s/x.sources": "server ok.example\nmakestep 1 3\n",
  });
  assert.deepEqual(errors(parseChronyConf("/m.conf", bad)), [
    "/s/x.sources:2: 'makestep' is not allowed in a sources file (only server, pool and peer)",
  ]);
  const re = readSourceDirs(["/s"], memReader({ "/s/a.sources": "server x\n" }));
  assert.deepEqual(re.sources.map((s) => s.name), ["x"]);
  assert.deepEqual(re.errors, []);
});

Deno.test("expandGlob matches ?, [] and * per path component", () => {
  const reader = memReader({
    "/d/a1.conf": "",
    "/d/a2.conf": "",
    "/d/b1.conf": "",
    "/d/.h.conf": "",
  });
  assert.deepEqual(expandGlob("/d/a?.conf", reader), ["/d/a1.conf", "/d/a2.conf"]);
  assert.deepEqual(expandGlob("/d/[ab]1.conf", reader), ["/d/a1.conf", "/d/b1.conf"]);
  assert.deepEqual(expandGlob("/d/*.conf", reader), ["/d/a1.conf", "/d/a2.conf", "/d/b1.conf"]);
  assert.deepEqual(expandGlob("/d/plain.conf", reader), ["/d/plain.conf"]);
});

Deno.test("a missing main file is one error without a line", () => {
  const r = parseChronyConf("/does/not/exist.conf", denoConfReader());
  assert.equal(r.ok, false);
  assert.deepEqual(errors(r), ["/does/not/exist.conf: no such file"]);
});

Deno.test("settings that cannot work together give warnings on the main file", () => {
  const r = parseChronyConfText(
    "server a key 5\nport 0\nallow 10/8\ncmdallow 10/8\nrtcautotrim 30\nlog tracking\n",
    "w.conf",
  );
  assert.ok(r.ok);
  const w = r.warnings.map(formatDiagnostic);
  assert.deepEqual(w, [
    "w.conf: source a uses key 5 but no keyfile is configured",
    "w.conf: allow has no effect with port 0 (the NTP server port is never opened)",
    "w.conf: cmdallow has no effect while the command port listens only on loopback (add bindcmdaddress 0.0.0.0 and/or ::, and a non-zero cmdport)",
    "w.conf: rtcautotrim has no effect without rtcfile",
    "w.conf: log has no effect without logdir",
  ]);
  const quiet = parseChronyConfText(
    "server a key 5\nkeyfile /k\nallow 10/8\ncmdallow 10/8\nbindcmdaddress 0.0.0.0\n",
    "q.conf",
  );
  assert.ok(quiet.ok);
  assert.deepEqual(quiet.warnings, []);
});

Deno.test("malformed glob classes match nothing instead of throwing", () => {
  const reader = memReader({ "/d/a.conf": "server a\n" });
  assert.deepEqual(expandGlob("/d/[z-a].conf", reader), []);
  assert.deepEqual(expandGlob("/d/[.conf", reader), []);
  const r = parseChronyConfText("include /d/[z-a]*.conf\n", "g.conf", reader);
  assert.ok(r.ok);
});
