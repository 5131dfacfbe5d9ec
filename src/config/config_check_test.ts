import assert from "node:assert/strict";
import { run } from "../cli/config_check.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

async function withFile(text: string, suffix: string, fn: (path: string) => Promise<void>) {
  const path = await Deno.makeTempFile({ suffix });
  try {
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("config check: a valid file prints the effective config and exits 0", async () => {
  await withFile("server a.example iburst\nmakestep 1 3\n", ".conf", async (path) => {
    const c = capture();
    assert.equal(await run(["check", path], c.io), 0);
    const text = c.out.join("\n");
    assert.match(text, /^server a\.example iburst$/m);
    assert.match(text, /^makestep 1 3$/m);
    assert.deepEqual(c.err, []);
  });
});

Deno.test("config check --json prints the Config as JSON", async () => {
  await withFile('[[source]]\ntype = "pool"\nname = "p.example"\n', ".toml", async (path) => {
    const c = capture();
    assert.equal(await run(["check", path, "--json"], c.io), 0);
    const cfg = JSON.parse(c.out.join("\n"));
    assert.equal(cfg.sources[0].type, "pool");
    assert.equal(cfg.sources[0].name, "p.example");
  });
});

Deno.test("config check: errors as file:line lines, exit 1; warnings marked", async () => {
  await withFile("dumponexit\nserver a minpoll 99\nbogus\n", ".conf", async (path) => {
    const c = capture();
    assert.equal(await run(["check", path], c.io), 1);
    assert.deepEqual(c.err, [
      `${path}:1: dumponexit: obsolete directive ignored (warning)`,
      `${path}:2: server: minpoll value 99 out of range (-7..24)`,
      `${path}:3: unknown or unsupported directive 'bogus'`,
      `${path}: 2 errors`,
    ]);
    assert.deepEqual(c.out, []);
  });
});

Deno.test("config check: usage errors exit 2; '-' checks the embedded default", async () => {
  const c = capture();
  assert.equal(await run([], c.io), 2);
  assert.equal(await run(["check"], c.io), 2);
  assert.equal(await run(["lint", "x"], c.io), 2);
  assert.equal(await run(["check", "a", "b"], c.io), 2);
  assert.equal(await run(["check", "--bogus", "x"], c.io), 2);
  const d = capture();
  assert.equal(await run(["check", "-"], d.io), 0);
  assert.match(d.out.join("\n"), /^pool pool\.ntp\.org iburst$/m);
  const h = capture();
  assert.equal(await run(["--help"], h.io), 0);
  assert.match(h.out.join("\n"), /tempus config check FILE/);
});

Deno.test("config check on a missing file exits 1 with the file named", async () => {
  const c = capture();
  assert.equal(await run(["check", "/nonexistent/x.conf"], c.io), 1);
  assert.equal(c.err[0], "/nonexistent/x.conf: no such file");
});
