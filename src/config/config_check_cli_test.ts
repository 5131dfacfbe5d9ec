import assert from "node:assert/strict";

const ROOT = new URL("../..", import.meta.url).pathname;

async function tempus(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("`tempus config check` through the CLI entry: shipped examples are valid", async () => {
  const conf = await tempus(["config", "check", "dist/tempus.conf"]);
  assert.equal(conf.code, 0, conf.stderr);
  const toml = await tempus(["config", "check", "dist/tempus.toml"]);
  assert.equal(toml.code, 0, toml.stderr);
  assert.equal(toml.stdout, conf.stdout);
  assert.match(conf.stdout, /^pool pool\.ntp\.org iburst$/m);
});

Deno.test("`tempus config check` through the CLI entry: errors exit 1 with file:line", async () => {
  const path = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(path, "server a.example copy\n");
    const r = await tempus(["config", "check", path]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^${path}:1: server: option 'copy' is not supported`, "m"));
  } finally {
    await Deno.remove(path);
  }
});
