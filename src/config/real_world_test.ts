import assert from "node:assert/strict";
import { denoConfReader, parseChronyConf, parseChronyConfText } from "./chrony_conf.ts";
import { formatDiagnostic } from "./diagnostics.ts";

const DEBIAN_CONF = "/etc/chrony/chrony.conf";
const EXAMPLES = "/usr/share/doc/chrony/examples";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "Debian's /etc/chrony/chrony.conf parses without errors" +
    (exists(DEBIAN_CONF) ? "" : " (skipped: chrony is not installed)"),
  ignore: !exists(DEBIAN_CONF),
  fn() {
    const r = parseChronyConf(DEBIAN_CONF, denoConfReader());
    assert.ok(r.ok, r.ok ? "" : r.errors.map(formatDiagnostic).join("\n"));
    const c = r.config;
    assert.ok(c.sources.some((s) => s.type === "pool" && s.params.iburst));
    assert.equal(c.driftFile, "/var/lib/chrony/chrony.drift");
    assert.equal(c.maxUpdateSkew, 100);
    assert.equal(c.rtcSync, true);
    assert.deepEqual(c.makeStep, { threshold: 1, limit: 3 });
    assert.equal(c.leapSecTz, "right/UTC");
    assert.equal(c.keyFile, "/etc/chrony/chrony.keys");
    // Only warnings it may give: ntsdumpdir (NTS is not implemented).
    for (const w of r.warnings) assert.match(w.message, /ntsdumpdir/);
  },
});

for (const name of ["chrony.conf.example1", "chrony.conf.example2", "chrony.conf.example3"]) {
  const path = `${EXAMPLES}/${name}`;
  Deno.test({
    name: `chrony's shipped ${name} parses without errors` +
      (exists(path) ? "" : " (skipped: chrony examples are not installed)"),
    ignore: !exists(path),
    fn() {
      const r = parseChronyConf(path, denoConfReader());
      assert.ok(r.ok, r.ok ? "" : r.errors.map(formatDiagnostic).join("\n"));
      assert.equal(r.config.driftFile, "/var/lib/chrony/drift");
    },
  });
}

Deno.test({
  name: "example3 with every commented directive enabled: errors only for what tempus lacks" +
    (exists(`${EXAMPLES}/chrony.conf.example3`) ? "" : " (skipped: no chrony examples)"),
  ignore: !exists(`${EXAMPLES}/chrony.conf.example3`),
  fn() {
    const text = Deno.readTextFileSync(`${EXAMPLES}/chrony.conf.example3`)
      .split("\n")
      .map((l) => (l.startsWith("! a comment") ? l : l.replace(/^! /, "")))
      .join("\n");
    const r = parseChronyConfText(text, "example3");
    assert.equal(r.ok, false);
    const unsupported = new Set(
      r.ok ? [] : r.errors.map((e) => /directive '([^']+)'/.exec(e.message)?.[1] ?? e.message),
    );
    assert.deepEqual([...unsupported].sort(), [
      "authselectmode",
      "cmdratelimit",
      "hwtimestamp",
      "lock_all",
      "mailonchange",
      "rtcsync cannot be used together with rtcfile", // example3 offers both as alternatives
      "sched_priority",
    ]);
  },
});

Deno.test("the FAQ's minimal configurations parse", () => {
  for (
    const text of [
      "pool pool.ntp.org iburst\ndriftfile /var/lib/chrony/drift\nmakestep 1.0 3\nrtcsync\n",
      "server foo.example.net iburst\nserver bar.example.net iburst\nserver baz.example.net iburst\n" +
      "driftfile /var/lib/chrony/drift\nmakestep 1.0 3\nrtcsync\n",
      "server foo.example.net offline\nserver bar.example.net offline\n" +
      "driftfile /var/lib/chrony/drift\nmakestep 1.0 3\nrtcsync\n",
      "pool pool.ntp.org iburst\nallow 192.168.0.0/16\nlocal stratum 10\n",
    ]
  ) {
    const r = parseChronyConfText(text, "faq");
    assert.ok(r.ok, r.ok ? "" : r.errors.map(formatDiagnostic).join("\n"));
    assert.ok(r.config.sources.length > 0);
  }
});

/** Configurations in the style distributions and clouds ship (reconstructed by hand). */
const DISTRO_STYLE: Record<string, string> = {
  "ubuntu-style": `confdir /etc/chrony/conf.d
pool ntp.ubuntu.com        iburst maxsources 4
pool 0.ubuntu.pool.ntp.org iburst maxsources 1
pool 1.ubuntu.pool.ntp.org iburst maxsources 1
pool 2.ubuntu.pool.ntp.org iburst maxsources 2
sourcedir /run/chrony-dhcp
sourcedir /etc/chrony/sources.d
keyfile /etc/chrony/chrony.keys
driftfile /var/lib/chrony/chrony.drift
ntsdumpdir /var/lib/chrony
logdir /var/log/chrony
maxupdateskew 100.0
rtcsync
makestep 1 3
leapsectz right/UTC
`,
  "fedora-style": `# Use public servers from the pool.ntp.org project.
pool 2.fedora.pool.ntp.org iburst
sourcedir /run/chrony-dhcp
driftfile /var/lib/chrony/drift
makestep 1.0 3
rtcsync
#hwtimestamp *
#minsources 2
#allow 192.168.0.0/16
#local stratum 10
keyfile /etc/chrony.keys
ntsdumpdir /var/lib/chrony
leapsectz right/UTC
logdir /var/log/chrony
#log measurements statistics tracking
`,
  "cloud-link-local": `server 169.254.169.123 prefer iburst minpoll 4 maxpoll 4
pool 2.pool.ntp.org iburst noselect
driftfile /var/lib/chrony/drift
makestep 1.0 3
rtcsync
dumpdir /var/run/chrony
`,
  "lan-server": `server ntp1.example.net iburst
server ntp2.example.net iburst
server ntp3.example.net iburst
minsources 2
driftfile /var/lib/chrony/drift
makestep 1.0 3
allow 10.0.0.0/8
allow 192.168
deny 192.168.66
local stratum 10 orphan
ratelimit interval 1 burst 16
clientloglimit 1048576
bindcmdaddress 0.0.0.0
cmdallow 10.1.2.0/24
logdir /var/log/chrony
log measurements statistics tracking
`,
  "intermittent-dialup": `server foo.example.net offline
server bar.example.net offline
server baz.example.net offline auto_offline
driftfile /var/lib/chrony/drift
makestep 1.0 3
rtcfile /var/lib/chrony/rtc
rtconutc
rtcautotrim 30
`,
};

for (const [name, text] of Object.entries(DISTRO_STYLE)) {
  Deno.test(`${name} configuration parses without errors`, () => {
    const r = parseChronyConfText(text, name);
    assert.ok(r.ok, r.ok ? "" : r.errors.map(formatDiagnostic).join("\n"));
    assert.ok(r.config.sources.length >= 1);
    for (const w of r.warnings) assert.match(w.message, /ntsdumpdir/);
  });
}

Deno.test("Azure's PHC refclock parses; what tempus lacks of it is refused clearly", () => {
  const r = parseChronyConfText(
    "refclock PHC /dev/ptp_hyperv poll 3 dpoll -2 offset 0\nmakestep 1.0 -1\n",
    "azure-style",
  );
  assert.ok(r.ok, r.ok ? "" : r.errors.map(formatDiagnostic).join("\n"));
  assert.deepEqual([r.config.refclocks[0].driver, r.config.refclocks[0].dpoll], ["PHC", -2]);
  const bad = parseChronyConfText("refclock PHC /dev/ptp0:extpps:pin=0 local\n", "x");
  assert.deepEqual(bad.ok ? [] : bad.errors.map(formatDiagnostic), [
    "x:1: refclock PHC: driver option 'extpps' is not implemented yet (nocrossts is)",
  ]);
});

Deno.test("refclock SHM/SOCK lines (gpsd style) parse with chrony's defaults and file:line", () => {
  const r = parseChronyConfText(
    "refclock SHM 0 refid GPS poll 3 offset 0.2 delay 0.2 noselect\n" +
      "refclock SOCK /run/chrony.ttyS0.sock refid PPS prefer\n",
    "gpsd-style",
  );
  assert.ok(r.ok, r.ok ? "" : r.errors.map(formatDiagnostic).join("\n"));
  const [shm, sock] = r.config.refclocks;
  assert.equal(shm.driver, "SHM");
  assert.equal(shm.refId, "GPS");
  assert.equal(shm.poll, 3);
  assert.equal(shm.offset, 0.2);
  assert.equal(shm.noselect, true);
  assert.equal(shm.filter, 64);
  assert.equal(shm.origin, "gpsd-style:1");
  assert.equal(sock.parameter, "/run/chrony.ttyS0.sock");
  assert.equal(sock.prefer, true);
  assert.equal(sock.origin, "gpsd-style:2");
  const bad = parseChronyConfText("refclock SHM 0 local lock GPS\nrefclock SOCK rel.sock\n", "x");
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.ok ? [] : bad.errors.map(formatDiagnostic), [
    "x:1: refclock: local locks the refclock to itself; drop 'lock'",
    "x:2: refclock SOCK: socket path 'rel.sock' must be absolute",
  ]);
});
