import assert from "node:assert/strict";
import { currentOwner, dirOf, ensurePrivateDir, privateDirProblem } from "./private_dir.ts";

Deno.test("dirOf: the directory part of a path", () => {
  assert.equal(dirOf("/var/run/tempus/tempus.sock"), "/var/run/tempus");
  assert.equal(dirOf("/x"), "/");
  assert.equal(dirOf("x"), ".");
});

Deno.test("ensurePrivateDir: parents 0755, the directory itself restricted; existing left alone", async () => {
  const base = await Deno.makeTempDir();
  try {
    const dir = `${base}/a/b/run`;
    ensurePrivateDir(dir, 0o770, currentOwner());
    assert.equal((Deno.statSync(dir).mode ?? 0) & 0o007, 0);
    assert.equal((Deno.statSync(`${base}/a/b`).mode ?? 0) & 0o022, 0);
    assert.equal(privateDirProblem(dir, 0o770, currentOwner()), null);
    Deno.chmodSync(dir, 0o755);
    ensurePrivateDir(dir, 0o770, currentOwner()); // exists: not changed
    assert.match(
      privateDirProblem(dir, 0o770, currentOwner()) ?? "",
      /Wrong permissions on .* \(0755/,
    );
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("privateDirProblem: missing, not a directory, wrong owner, wrong group", async () => {
  const base = await Deno.makeTempDir();
  try {
    const me = currentOwner();
    assert.match(privateDirProblem(`${base}/none`, 0o770, me) ?? "", /Could not access/);
    Deno.writeTextFileSync(`${base}/file`, "");
    assert.match(privateDirProblem(`${base}/file`, 0o770, me) ?? "", /is not a directory/);
    assert.match(
      privateDirProblem(base, 0o770, { uid: me.uid + 1, gid: me.gid }) ?? "",
      /Wrong owner .*UID/,
    );
    assert.match(
      privateDirProblem(base, 0o770, { uid: me.uid, gid: me.gid + 1 }) ?? "",
      /Wrong owner .*GID/,
    );
    assert.equal(privateDirProblem(base, 0o700, me), null); // makeTempDir: 0700
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test({
  name: "ensurePrivateDir: a created directory is owned by the given user (as root)",
  ignore: Deno.uid() !== 0,
  async fn() {
    const base = await Deno.makeTempDir();
    try {
      ensurePrivateDir(`${base}/run`, 0o770, { uid: 65534, gid: 65534 });
      const st = Deno.statSync(`${base}/run`);
      assert.equal(st.uid, 65534);
      assert.equal(st.gid, 65534);
      assert.equal(privateDirProblem(`${base}/run`, 0o770, { uid: 65534, gid: 65534 }), null);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});
