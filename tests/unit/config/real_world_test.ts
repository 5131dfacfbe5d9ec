import assert from "node:assert/strict";
import {
  denoConfReader,
  parseChronyConf,
  parseChronyConfText,
} from "../../../src/config/chrony_conf.ts";
import { formatDiagnostic } from "../../../src/config/diagnostics.ts";

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
      "ntsservercert",
      "ntsserverkey",
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
