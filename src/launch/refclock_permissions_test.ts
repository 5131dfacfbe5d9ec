import assert from "node:assert/strict";
import { grantsFor } from "./permissions.ts";
import type { HostFacts } from "./grants.ts";

const host: HostFacts = {
  env: () => undefined,
  readText: () => null,
  reader: { readFile: () => ({ ok: false, error: "no such file" }), listDir: () => null },
  execPath: () => "/opt/deno/deno",
};

Deno.test("sandbox: a SOCK refclock's socket is readable and writable, SHM needs FFI", () => {
  const g = grantsFor(
    ["daemon", "-x", "-d", "refclock SOCK /run/chrony.ttyS0.sock", "refclock SHM 0"],
    host,
  );
  assert.ok(g.read.includes("/run/chrony.ttyS0.sock"));
  assert.ok(g.write.includes("/run/chrony.ttyS0.sock"));
  assert.deepEqual(g.ffi, ["*"]);
});
