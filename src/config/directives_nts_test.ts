import assert from "node:assert/strict";
import { parseChronyConfText } from "./chrony_conf.ts";
import { parseTomlConfig } from "./toml.ts";
import { ntsConfigOf } from "./nts_config.ts";

Deno.test("NTS directives: chrony.conf and TOML give the same NtsConfig and source options", () => {
  const conf = parseChronyConfText(
    [
      "server ntp.example iburst nts ntsport 4461",
      "ntsdumpdir /var/lib/tempus",
      "ntstrustedcerts /etc/tempus/ca.pem",
      "ntstrustedcerts 0 /etc/tempus/certs",
      "nosystemcert",
      "nocerttimecheck 2",
      "ntsrefresh 86400",
      "ntsserverkey /etc/tempus/k.pem",
      "ntsservercert /etc/tempus/c.pem",
      "ntsport 14460",
      "ntsrotate 3600",
      "ntsratelimit interval 4 burst 16",
      "ntsntpserver time.example",
      "ntsprocesses 1",
    ].join("\n") + "\n",
    "t.conf",
  );
  assert.ok(conf.ok, conf.ok ? "" : JSON.stringify(conf.errors));
  assert.equal(conf.warnings.length, 0, JSON.stringify(conf.warnings));
  const toml = parseTomlConfig(
    [
      "[[source]]",
      'type = "server"',
      'name = "ntp.example"',
      "iburst = true",
      "nts = true",
      "ntsport = 4461",
      "[nts]",
      'dumpdir = "/var/lib/tempus"',
      'trustedcerts = ["/etc/tempus/ca.pem", "/etc/tempus/certs"]',
      "nosystemcert = true",
      "nocerttimecheck = 2",
      "refresh = 86400",
      'serverkey = ["/etc/tempus/k.pem"]',
      'servercert = ["/etc/tempus/c.pem"]',
      "port = 14460",
      "rotate = 3600",
      "ratelimit = { interval = 4, burst = 16 }",
      'ntpserver = "time.example"',
      "processes = 1",
    ].join("\n") + "\n",
    "t.toml",
  );
  assert.ok(toml.ok, toml.ok ? "" : JSON.stringify(toml.errors));
  for (const c of [conf.config, toml.config]) {
    assert.equal(c.sources[0].params.nts, true);
    assert.equal(c.sources[0].params.ntsPort, 4461);
    assert.deepEqual(ntsConfigOf(c), {
      dumpDir: "/var/lib/tempus",
      trustedCerts: ["/etc/tempus/ca.pem", "/etc/tempus/certs"],
      noSystemCert: true,
      noCertTimeCheck: 2,
      refresh: 86400,
      serverKeys: ["/etc/tempus/k.pem"],
      serverCerts: ["/etc/tempus/c.pem"],
      port: 14460,
      rotate: 3600,
      rateLimit: { interval: 4, burst: 16, leak: 2 },
      ntpServer: "time.example",
      processes: 1,
    });
  }
});

Deno.test("NTS directives: bad values and unsupported forms are errors, never ignored", () => {
  for (
    const [line, message] of [
      ["ntsprocesses -1", /ntsprocesses/],
      ["ntstrustedcerts 3 /x", /certset/],
      ["ntsratelimit interval", /pairs/],
      ["ntsratelimit speed 3", /unknown option/],
      ["ntsport 70000", /ntsport/],
      ["nocerttimecheck -1", /nocerttimecheck/],
      ["server a.example certset 1", /certset/],
      ["server a.example ntsport", /needs a value/],
      ["nosystemcert yes", /takes no arguments/],
      ["peer 192.0.2.1 nts", /symmetric mode/],
    ] as const
  ) {
    const r = parseChronyConfText(line + "\n", "t.conf");
    assert.equal(r.ok, false, line);
    if (!r.ok) assert.match(r.errors.map((e) => e.message).join("\n"), message, line);
  }
});
