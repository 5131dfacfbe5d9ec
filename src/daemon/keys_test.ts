import assert from "node:assert/strict";
import { DEFAULT_SOURCE_PARAMS } from "../config/defaults.ts";
import type { SourceConfig } from "../config/model.ts";
import { loadKeyFile } from "./keys.ts";

function source(key: number | null): SourceConfig {
  return {
    type: "server",
    name: "192.0.2.1",
    params: { ...DEFAULT_SOURCE_PARAMS, key },
    origin: "",
  };
}

const FILE = "# keys\n1 SHA1 HEX:19C12E347D12C16E1712D64604145A767B7628C7\n" +
  "2 AES128 HEX:0011\n3 MD5 short\n";
const read = (_p: string) => FILE;

Deno.test("keys: sources' keys found in the keyfile load without errors", () => {
  const r = loadKeyFile({ keyFile: "/etc/k", sources: [source(1), source(null)] }, read);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.keys.ids(), [1, 3]);
  assert.deepEqual(r.warnings, ["/etc/k:3: AES128 key 2 has 16 bits (expected 128)"]);
});

Deno.test("keys: a missing key, keyfile or unreadable keyfile is a start-up error", () => {
  const bad = loadKeyFile({ keyFile: "/etc/k", sources: [source(2)] }, read);
  assert.equal(bad.errors.length, 1);
  assert.match(bad.errors[0], /server 192\.0\.2\.1 uses key 2, which keyfile \/etc\/k does not/);
  assert.match(bad.errors[0], /\/etc\/k:3: AES128 key 2/);
  const none = loadKeyFile({ keyFile: null, sources: [source(5)] }, read);
  assert.match(none.errors[0], /uses key 5 but no keyfile is configured/);
  const unreadable = loadKeyFile({ keyFile: "/nope", sources: [source(1)] }, () => {
    throw new Error("No such file");
  });
  assert.match(unreadable.errors[0], /Could not read keyfile \/nope: No such file/);
  const unused = loadKeyFile({ keyFile: "/nope", sources: [] }, () => {
    throw new Error("No such file");
  });
  assert.equal(unused.errors.length, 0);
  assert.equal(unused.warnings.length, 1);
  const weak = loadKeyFile({ keyFile: "/etc/k", sources: [source(3)] }, read);
  assert.ok(weak.warnings.some((w) => w.includes("key 3 is too short")));
});
