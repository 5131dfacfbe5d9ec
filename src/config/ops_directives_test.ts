import assert from "node:assert/strict";
import { parseChronyConfText } from "./chrony_conf.ts";
import { configWarnings } from "./checks.ts";
import { defaultConfig } from "./defaults.ts";
import { renderConfig } from "./render.ts";
import { parseTomlConfig } from "./toml.ts";

Deno.test("metricsport, bindmetricsaddress, errorboundfile: defaults, chrony.conf and TOML agree", () => {
  const d = defaultConfig();
  assert.equal(d.metricsPort, 0);
  assert.equal(d.bindMetricsAddress, "127.0.0.1");
  assert.equal(d.errorBoundFile, null);
  const conf = parseChronyConfText(
    "metricsport 9975\nbindmetricsaddress ::1\nerrorboundfile /run/tempus/errorbound\n" +
      "recordmeasurements /var/log/tempus/samples.jsonl\n",
    "t.conf",
  );
  assert.ok(conf.ok);
  const toml = parseTomlConfig(
    '[metrics]\nport = 9975\nbindaddress = "::1"\nerrorboundfile = "/run/tempus/errorbound"\n' +
      'recordmeasurements = "/var/log/tempus/samples.jsonl"\n',
    "t.toml",
  );
  assert.ok(toml.ok, toml.ok ? "" : JSON.stringify(toml.errors));
  for (const c of [conf.config, toml.config]) {
    assert.equal(c.metricsPort, 9975);
    assert.equal(c.bindMetricsAddress, "::1");
    assert.equal(c.errorBoundFile, "/run/tempus/errorbound");
    assert.equal(c.recordMeasurements, "/var/log/tempus/samples.jsonl");
  }
  const text = renderConfig(conf.config);
  assert.match(text, /^metricsport 9975$/m);
  assert.match(text, /^bindmetricsaddress ::1$/m);
  assert.match(text, /^errorboundfile \/run\/tempus\/errorbound$/m);
});

Deno.test("bad metrics/error-bound values are errors with the directive named", () => {
  for (
    const [line, message] of [
      ["metricsport 70000", /metricsport/],
      ["metricsport", /metricsport/],
      ["bindmetricsaddress localhost", /bindmetricsaddress: invalid address/],
      ["errorboundfile relative/path", /errorboundfile: .*absolute/],
      ["recordmeasurements x.jsonl", /recordmeasurements: .*absolute/],
    ] as const
  ) {
    const r = parseChronyConfText(line + "\n", "t.conf");
    assert.equal(r.ok, false, line);
    if (!r.ok) assert.match(r.errors.map((e) => e.message).join("\n"), message);
  }
});

Deno.test("a metrics endpoint off loopback is warned about", () => {
  const c = { ...defaultConfig(), metricsPort: 9975, bindMetricsAddress: "0.0.0.0" };
  assert.ok(configWarnings(c).some((w) => w.includes("metrics endpoint on 0.0.0.0")));
  assert.equal(configWarnings({ ...c, bindMetricsAddress: "127.0.0.1" }).length, 0);
});

Deno.test("smoothtime: chrony.conf and TOML, leaponly, errors, RFC 8633 warning", () => {
  const conf = parseChronyConfText(
    "smoothtime 400 0.001024 leaponly\nleapsecmode slew\nallow 127.0.0.1\n",
    "t.conf",
  );
  assert.ok(conf.ok);
  const toml = parseTomlConfig(
    '[clock]\nleapsecmode = "slew"\n[server]\nallow = ["127.0.0.1"]\n' +
      "smoothtime = { maxfreq = 400, maxwander = 0.001024, leaponly = true }\n",
    "t.toml",
  );
  assert.ok(toml.ok, toml.ok ? "" : JSON.stringify(toml.errors));
  for (const c of [conf.config, toml.config]) {
    assert.deepEqual(c.smoothTime, { maxFreqPpm: 400, maxWanderPpm: 0.001024, leapOnly: true });
  }
  assert.match(renderConfig(conf.config), /^smoothtime 400 0\.001024 leaponly$/m);
  const warnings = configWarnings(conf.config);
  assert.ok(warnings.some((w) => w.includes("RFC 8633")), warnings.join("\n"));
  assert.ok(!warnings.some((w) => w.includes("use leapsecmode slew")));
  const plain = parseChronyConfText("smoothtime 50000 0.01\n", "t.conf");
  assert.ok(plain.ok);
  assert.deepEqual(plain.config.smoothTime, {
    maxFreqPpm: 50000,
    maxWanderPpm: 0.01,
    leapOnly: false,
  });
  assert.ok(configWarnings(plain.config).some((w) => w.includes("without allow")));
  for (
    const bad of [
      "smoothtime 400",
      "smoothtime 400 0",
      "smoothtime x 1",
      "smoothtime 1 1 leaponly leaponly",
    ]
  ) {
    const r = parseChronyConfText(bad + "\n", "t.conf");
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.errors[0].message, /smoothtime/);
  }
});
