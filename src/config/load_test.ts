import assert from "node:assert/strict";
import { DEFAULT_STATE_DIR } from "./defaults.ts";
import {
  EMBEDDED_CONFIG_NAME,
  isTomlPath,
  loadConfig,
  loadConfigLines,
  loadConfigSync,
} from "./load.ts";
import { memReader } from "../../tests/helpers/mem_reader.ts";

Deno.test("loadConfig(null) is the embedded default", async () => {
  const r = await loadConfig(null);
  assert.ok(r.ok);
  assert.deepEqual(r.config.sources.map((s) => [s.type, s.name, s.params.iburst]), [
    ["pool", "pool.ntp.org", true],
  ]);
  assert.equal(r.config.driftFile, `${DEFAULT_STATE_DIR}/drift`);
  assert.deepEqual(r.config.makeStep, { threshold: 1, limit: 3 });
  assert.equal(r.config.rtcSync, true);
  assert.equal(r.config.sources[0].origin, `${EMBEDDED_CONFIG_NAME}:2`);
});

Deno.test("the parser is chosen by extension", () => {
  const reader = memReader({
    "/etc/t.toml": '[[source]]\nname = "t.example"\n',
    "/etc/t.conf": "server c.example\n",
    "/etc/t.TOML.conf": "server d.example\n",
  });
  const toml = loadConfigSync("/etc/t.toml", reader);
  assert.ok(toml.ok);
  assert.equal(toml.config.sources[0].name, "t.example");
  const conf = loadConfigSync("/etc/t.conf", reader);
  assert.ok(conf.ok);
  assert.equal(conf.config.sources[0].name, "c.example");
  assert.equal(isTomlPath("/x/Tempus.TOML"), true);
  assert.equal(isTomlPath("/etc/t.TOML.conf"), false);
});

Deno.test("missing files are errors, not exceptions", async () => {
  const r = await loadConfig("/nonexistent/tempus.toml", memReader({}));
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? [] : r.errors, [
    { file: "/nonexistent/tempus.toml", line: null, message: "no such file" },
  ]);
});

Deno.test("directives given as arguments are one line each", () => {
  const r = loadConfigLines(["server 192.0.2.1 iburst", "makestep 0.1 -1"], memReader({}));
  assert.ok(r.ok);
  assert.equal(r.config.sources[0].origin, "(command line):1");
  assert.deepEqual(r.config.makeStep, { threshold: 0.1, limit: -1 });
  const joined = loadConfigLines(["server a", "server b\niburst"], memReader({}));
  assert.ok(joined.ok, "an embedded newline stays inside its argument");
  assert.equal(joined.config.sources[1].params.iburst, true);
  const e = loadConfigLines(["nonsense"], memReader({}));
  assert.equal(e.ok, false);
  assert.equal(e.ok ? "" : e.errors[0].line, 1);
});
