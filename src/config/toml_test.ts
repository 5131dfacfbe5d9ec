import assert from "node:assert/strict";
import { parseChronyConfText } from "./chrony_conf.ts";
import { formatDiagnostic } from "./diagnostics.ts";
import type { Config } from "./model.ts";
import { parseTomlConfig } from "./toml.ts";
import { formatKeyPath, locateKey } from "./toml_keys.ts";
import { memReader } from "../../tests/helpers/mem_reader.ts";

function ok(text: string): Config {
  const r = parseTomlConfig(text, "t.toml");
  if (!r.ok) assert.fail(r.errors.map(formatDiagnostic).join("\n"));
  return r.config;
}

function fails(text: string): string[] {
  const r = parseTomlConfig(text, "t.toml");
  assert.equal(r.ok, false, "expected errors");
  return r.ok ? [] : r.errors.map(formatDiagnostic);
}

function withoutOrigins(c: Config): Config {
  return { ...c, sources: c.sources.map((s) => ({ ...s, origin: "" })) };
}

Deno.test("dist/tempus.toml and dist/tempus.conf give the same Config", () => {
  const root = new URL("../../dist/", import.meta.url);
  const tomlText = Deno.readTextFileSync(new URL("tempus.toml", root));
  const toml = parseTomlConfig(tomlText, "tempus.toml");
  const conf = parseChronyConfText(
    Deno.readTextFileSync(new URL("tempus.conf", root)),
    "tempus.conf",
  );
  assert.ok(toml.ok && conf.ok);
  assert.deepEqual(withoutOrigins(toml.config), withoutOrigins(conf.config));
  const sourceLine = tomlText.split("\n").indexOf("[[source]]") + 1;
  assert.equal(toml.config.sources[0].origin, `tempus.toml:${sourceLine}`);
});

Deno.test("a full TOML configuration maps onto the same model as chrony.conf", () => {
  const toml = ok(`
pidfile = "/run/t.pid"
user = "tempus"
keyfile = "/etc/t.keys"
dumpdir = "/var/lib/t"
acquisitionport = 0
refresh = 3600
manual = true

[[source]]
type = "server"
name = "a.example"
iburst = true
minpoll = 4
maxpoll = 8
maxdelay = 0.5
prefer = true

[[source]]
type = "pool"
name = "p.example"
maxsources = 2

[[source]]
name = "b.example"

[clock]
driftfile = "/d"
driftfile_interval = 600
makestep = { threshold = 0.5, limit = -1 }
maxchange = { offset = 1000, start = 1, ignore = 2 }
fallbackdrift = { min = 16, max = 19 }
maxslewrate = 500
leapsecmode = "slew"
clockprecision = 1e-8

[selection]
minsources = 2
maxdistance = 16
stratumweight = 0.01

[rtc]
file = "/var/lib/t/rtc"
onutc = true
autotrim = 30

[server]
port = 11123
bindaddress = ["192.0.2.1"]
access = ["allow 192.168/16", "deny 192.168.100/24", "allow all 10.0.0.0/8"]
ratelimit = { interval = 1, burst = 16 }
local = { stratum = 8, orphan = true }
noclientlog = true

[cmd]
port = 0
bindaddress = ["0.0.0.0"]
socket = false
allow = ["192.168.0.0/16"]

[log]
dir = "/var/log/t"
kinds = ["tracking", "statistics"]
banner = 0
change = 0.5
`);
  const conf = parseChronyConfText(
    `pidfile /run/t.pid
user tempus
keyfile /etc/t.keys
dumpdir /var/lib/t
acquisitionport 0
refresh 3600
manual
server a.example iburst minpoll 4 maxpoll 8 maxdelay 0.5 prefer
pool p.example maxsources 2
server b.example
driftfile /d interval 600
makestep 0.5 -1
maxchange 1000 1 2
fallbackdrift 16 19
maxslewrate 500
leapsecmode slew
clockprecision 1e-8
minsources 2
maxdistance 16
stratumweight 0.01
rtcfile /var/lib/t/rtc
rtconutc
rtcautotrim 30
port 11123
bindaddress 192.0.2.1
allow 192.168/16
deny 192.168.100/24
allow all 10.0.0.0/8
ratelimit interval 1 burst 16
local stratum 8 orphan
noclientlog
cmdport 0
bindcmdaddress 0.0.0.0
bindcmdaddress /
cmdallow 192.168.0.0/16
logdir /var/log/t
log tracking statistics
logbanner 0
logchange 0.5
`,
    "same.conf",
  );
  assert.ok(conf.ok, conf.ok ? "" : conf.errors.map(formatDiagnostic).join("\n"));
  // TOML's cmd.bindaddress replaces both defaults; chrony's directive replaces per family.
  const expected = { ...conf.config, bindCmdAddresses: ["0.0.0.0"] };
  assert.deepEqual(withoutOrigins(toml), withoutOrigins(expected));
});

Deno.test("unknown keys are errors with the key path and line", () => {
  assert.deepEqual(fails('[clock]\ndriftfile = "/d"\nmakestep_limit = 3\n'), [
    "t.toml:3: clock.makestep_limit: unknown key (expected one of: driftfile, driftfile_interval, makestep, maxslewrate, maxupdateskew, maxchange, maxdrift, maxclockerror, corrtimeratio, clockprecision, fallbackdrift, leapsecmode, leapsectz, leapseclist)",
  ]);
  const e = fails('[[source]]\nname = "a"\n\n[[source]]\nname = "b"\nibust = true\n');
  assert.deepEqual(e, ["t.toml:6: source[1].ibust: unknown source option"]);
  assert.match(fails("bogus = 1\n")[0], /^t\.toml:1: bogus: unknown key/);
  assert.match(
    fails("[clock]\nmakestep = { threshold = 1, limt = 3 }\n")[0],
    /^t\.toml:2: clock\.makestep\.limt: unknown key/,
  );
  assert.match(fails("[nonsense]\nx = 1\n")[0], /^t\.toml:1: nonsense: unknown key/);
});

Deno.test("wrong types and values are errors located at the key", () => {
  assert.match(
    fails('[[source]]\nname = "a"\nminpoll = "4"\n')[0],
    /^t\.toml:3: source\[0\]\.minpoll: expected a number, got a string/,
  );
  assert.match(
    fails('[[source]]\nname = "a"\nminpoll = 40\n')[0],
    /^t\.toml:1: source\[0\]: server: minpoll value 40 out of range/,
  );
  assert.match(fails('[[source]]\nname = "a"\niburst = 1\n')[0], /iburst: expected true or false/);
  assert.match(
    fails('[[source]]\ntype = "broadcast"\nname = "a"\n')[0],
    /source\[0\]\.type: expected "server", "pool" or "peer"/,
  );
  assert.match(
    fails("[[source]]\niburst = true\n")[0],
    /source\[0\]\.name: missing or invalid host name/,
  );
  assert.match(
    fails("[clock]\nmakestep = { threshold = 1 }\n")[0],
    /clock\.makestep: missing key 'limit'/,
  );
  assert.match(fails('[rtc]\nsync = "yes"\n')[0], /rtc\.sync: expected true or false/);
  assert.match(
    fails('[server]\nallow = ["example.com"]\n')[0],
    /^t\.toml:2: server\.allow\[0\]: allow: invalid subnet/,
  );
  assert.match(
    fails('[server]\naccess = ["permit 10/8"]\n')[0],
    /server\.access\[0\]: expected "allow/,
  );
  assert.match(fails('[cmd]\nsocket = "relative.sock"\n')[0], /must be an absolute path/);
  assert.match(
    fails('[log]\nkinds = ["tracking", "tempcomps"]\n')[0],
    /log\.kinds\[1\]: log: unknown log 'tempcomps'/,
  );
  assert.match(fails("[clock]\ndriftfile_interval = 0\n")[0], /invalid interval/);
  assert.match(fails("source = 3\n")[0], /source: expected an array of tables/);
  assert.match(fails("clock = 3\n")[0], /clock: expected a table/);
});

Deno.test("TOML syntax errors carry the line", () => {
  const e = fails('[clock]\ndriftfile = "/d\n');
  assert.match(e[0], /^t\.toml:2: TOML syntax error/);
});

Deno.test("ratelimit/local accept true; flags accept false", () => {
  const c = ok(
    "[server]\nratelimit = true\nlocal = true\nnoclientlog = false\n[rtc]\nsync = false\n",
  );
  assert.deepEqual(c.rateLimit, { interval: 3, burst: 8, leak: 2, kod: 0 });
  assert.equal(c.local?.stratum, 10);
  assert.equal(c.rtcSync, false);
});

Deno.test("locateKey finds keys, inline members, array-of-table entries", () => {
  const text =
    '# c\n[[source]]\nname = "a"\n[[source]]\nname = "b"\n[clock]\nmakestep = { threshold = 1, limit = 3 }\n';
  assert.equal(locateKey(text, ["source", 1, "name"]), 5);
  assert.equal(locateKey(text, ["source", 0]), 2);
  assert.equal(locateKey(text, ["clock", "makestep", "limit"]), 7);
  assert.equal(locateKey(text, ["nothing"]), null);
  assert.equal(formatKeyPath(["source", 2, "minpoll"]), "source[2].minpoll");
});

Deno.test("many sources parse in linear time (line lookup is indexed once)", () => {
  const text = Array.from(
    { length: 2000 },
    (_, i) => `[[source]]\nname = "s${i}.example"\niburst = true\n`,
  ).join("");
  const t0 = performance.now();
  const c = ok(text);
  const ms = performance.now() - t0;
  assert.equal(c.sources.length, 2000);
  assert.equal(c.sources[1999].origin, "t.toml:5998");
  // The quadratic version took about 24 s here; linear takes well under one.
  assert.ok(ms < 8000, `took ${ms.toFixed(0)} ms`);
});

Deno.test("sourcedir reads *.sources files in chrony syntax", () => {
  const reader = memReader({
    "/run/dhcp/eth0.sources": "server 192.0.2.1 iburst\n",
    "/run/dhcp/bad.sources": "makestep 1 3\n",
  });
  const r = parseTomlConfig('sourcedir = ["/run/dhcp"]\n', "t.toml", reader);
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? [] : r.errors.map(formatDiagnostic), [
    "/run/dhcp/bad.sources:1: 'makestep' is not allowed in a sources file (only server, pool and peer)",
  ]);
  const good = parseTomlConfig(
    'sourcedir = ["/run/none", "/run/dhcp"]\n',
    "t.toml",
    memReader({ "/run/dhcp/eth0.sources": "server 192.0.2.1 iburst\n" }),
  );
  assert.ok(good.ok);
  assert.equal(good.config.sources[0].name, "192.0.2.1");
  assert.equal(good.config.sources[0].origin, "/run/dhcp/eth0.sources:1");
  assert.deepEqual(good.config.sourceDirs, ["/run/none", "/run/dhcp"]);
});
