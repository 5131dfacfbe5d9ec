import assert from "node:assert/strict";
import { parseChronyConfText } from "./chrony_conf.ts";
import { renderConfig } from "./render.ts";
import { parseTomlConfig } from "./toml.ts";

Deno.test("mode6allow/mode6deny: chrony.conf and TOML agree; rendered back", () => {
  const conf = parseChronyConfText(
    "mode6allow 192.0.2.0/24\nmode6deny 192.0.2.7\nmode6deny all\n",
    "t.conf",
  );
  assert.ok(conf.ok, conf.ok ? "" : JSON.stringify(conf.errors));
  const toml = parseTomlConfig(
    '[mode6]\nallow = ["192.0.2.0/24"]\ndeny = ["192.0.2.7", "all"]\n',
    "t.toml",
  );
  assert.ok(toml.ok, toml.ok ? "" : JSON.stringify(toml.errors));
  const want = [
    { allow: true, subnet: "192.0.2.0/24", all: false },
    { allow: false, subnet: "192.0.2.7/32", all: false },
    { allow: false, subnet: "all", all: true },
  ];
  assert.deepEqual(conf.config.mode6Access, want);
  assert.deepEqual(toml.config.mode6Access, want);
  const text = renderConfig(conf.config);
  assert.match(text, /^mode6allow 192\.0\.2\.0\/24$/m);
  assert.match(text, /^mode6deny all$/m);
  const again = parseChronyConfText(text, "rendered.conf");
  assert.ok(again.ok);
  assert.deepEqual(again.config.mode6Access, want);
});

Deno.test("mode6allow: a bad subnet or extra words are errors naming the directive", () => {
  for (
    const line of ["mode6allow 300.1.1.1", "mode6deny 10.0.0.0/8 extra", "mode6allow not/a/net"]
  ) {
    const r = parseChronyConfText(line + "\n", "t.conf");
    assert.ok(!r.ok, line);
    assert.match(JSON.stringify(r.errors), /mode6(allow|deny)/, line);
  }
  const none = parseChronyConfText("server 192.0.2.1\n", "t.conf");
  assert.ok(none.ok);
  assert.deepEqual(none.config.mode6Access ?? [], [], "no rule: loopback only (daemon/mode6.ts)");
});
