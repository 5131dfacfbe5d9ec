/**
 * Issue 20, item 5: `config check` runs the daemon's start-up checks; names are bounded;
 * bytes that are not UTF-8 are refused rather than silently replaced.
 */
import assert from "node:assert/strict";
import { run } from "../cli/config_check.ts";
import { parseChronyConf, parseChronyConfText } from "./chrony_conf.ts";
import { denoConfReader } from "./chrony_conf.ts";
import { formatDiagnostic } from "./diagnostics.ts";
import { parseTomlConfig } from "./toml.ts";

async function check(text: string, files: Record<string, string | Uint8Array> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "tempus-check-" });
  try {
    for (const [name, content] of Object.entries(files)) {
      if (typeof content === "string") await Deno.writeTextFile(`${dir}/${name}`, content);
      else await Deno.writeFile(`${dir}/${name}`, content);
    }
    const path = `${dir}/tempus.conf`;
    await Deno.writeTextFile(path, text.replaceAll("DIR", dir));
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(["check", path], { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config check: a missing keyfile that a source needs fails, as start-up does", async () => {
  const r = await check("server 192.0.2.1 key 1\nkeyfile DIR/nosuch.keys\n");
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /Could not read keyfile .*nosuch\.keys/);
});

Deno.test("config check: an undecodable key in use fails, as start-up does", async () => {
  const r = await check("server 192.0.2.1 key 1\nkeyfile DIR/k.keys\n", {
    "k.keys": "1 SHA1 HEX:XYZ-not-hex\n",
  });
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /uses key 1, which keyfile .* does not define/);
});

Deno.test("config check: a good keyfile and key in use pass", async () => {
  const r = await check("server 192.0.2.1 key 1\nkeyfile DIR/k.keys\n", {
    "k.keys": "1 SHA1 HEX:0123456789abcdef0123456789abcdef01234567\n",
  });
  assert.equal(r.code, 0, r.err);
});

Deno.test("config check: an unknown user fails (chronyd: Could not get user/group ID)", async () => {
  const r = await check("user nosuchuser-tempus\n");
  assert.equal(r.code, 1);
  assert.match(r.err, /Could not get user\/group ID of nosuchuser-tempus/);
  assert.equal((await check("user nobody\n")).code, 0);
});

Deno.test("a 10 MB server name is refused with a bounded message", () => {
  const name = "a".repeat(10 * 1024 * 1024);
  const r = parseChronyConfText(`server ${name} iburst\n`, "big.conf");
  assert.equal(r.ok, false);
  if (r.ok) return;
  const line = formatDiagnostic(r.errors[0]);
  assert.match(line, /host name too long \(10485760 characters, at most 253\)/);
  assert.ok(line.length < 400, `${line.length} characters`);
  // 253 characters is still a name.
  assert.ok(parseChronyConfText(`server ${"a".repeat(253)}\n`, "ok.conf").ok);
});

Deno.test("every diagnostic line is bounded, whatever token it echoes", () => {
  const r = parseChronyConfText(`${"x".repeat(1_000_000)} 1\n`, "junk.conf");
  assert.equal(r.ok, false);
  if (!r.ok) assert.ok(formatDiagnostic(r.errors[0]).length < 400);
});

Deno.test("a path with bytes that are not UTF-8 is refused, not silently renamed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tempus-utf8-" });
  try {
    const enc = new TextEncoder();
    const bytes = new Uint8Array([
      ...enc.encode("# caf\xe9 in a comment is fine: "),
      0xe9,
      ...enc.encode("\nlocal stratum 3\ndriftfile /var/lib/tempus/dr"),
      0xff,
      ...enc.encode("ift\n"),
    ]);
    await Deno.writeFile(`${dir}/t.conf`, bytes);
    const r = parseChronyConf(`${dir}/t.conf`, denoConfReader());
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0].line, 3);
    assert.match(r.errors[0].message, /not valid UTF-8/);
    const toml = new Uint8Array([...enc.encode('[clock]\ndriftfile = "/x/'), 0xfe, 0x22, 0x0a]);
    const t = parseTomlConfig(new TextDecoder().decode(toml), "t.toml");
    assert.equal(t.ok, false);
    if (!t.ok) assert.match(t.errors[0].message, /not valid UTF-8/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config check: a socket directory others can reach is a warning naming the outcome", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tempus-sockdir-" });
  try {
    Deno.chmodSync(dir, 0o755);
    const r = await check(`bindcmdaddress ${dir}/tempus.sock\n`);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /reachable by others \(0755\): the daemon will disable command socket/);
    Deno.chmodSync(dir, 0o750);
    assert.doesNotMatch((await check(`bindcmdaddress ${dir}/tempus.sock\n`)).err, /reachable/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
