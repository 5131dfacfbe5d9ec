import assert from "node:assert/strict";
import { ensureDirSync, tempPathFor, writeFileAtomic } from "./files.ts";

Deno.test("atomic writes replace content, set the mode and leave no temp files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tempus-files-" });
  try {
    const path = `${dir}/state`;
    await writeFileAtomic(path, "one\n");
    assert.equal(Deno.readTextFileSync(path), "one\n");
    await writeFileAtomic(path, new TextEncoder().encode("two\n"), { mode: 0o600 });
    assert.equal(Deno.readTextFileSync(path), "two\n");
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    const big = "x".repeat(1 << 20);
    await writeFileAtomic(path, big);
    assert.equal(Deno.readTextFileSync(path).length, big.length);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["state"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed write leaves the old file and no temp file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tempus-files-" });
  try {
    const path = `${dir}/state`;
    await writeFileAtomic(path, "old\n");
    Deno.mkdirSync(`${dir}/target-is-dir`);
    Deno.writeTextFileSync(`${dir}/target-is-dir/child`, "");
    await assert.rejects(writeFileAtomic(`${dir}/target-is-dir`, "new"));
    assert.equal(Deno.readTextFileSync(path), "old\n");
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["state", "target-is-dir"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("temp names are hidden, in the same directory, and one per target", () => {
  // One fixed name (chronyd's drift.tmp): a crash leaves at most one, the next write reuses it.
  assert.equal(tempPathFor("/var/lib/tempus/drift"), "/var/lib/tempus/.drift.tmp");
  assert.equal(tempPathFor("/var/lib/tempus/drift"), tempPathFor("/var/lib/tempus/drift"));
  assert.equal(tempPathFor("drift"), "./.drift.tmp");
  assert.equal(tempPathFor("/drift"), "/.drift.tmp");
});

Deno.test("ensureDirSync creates parents and is idempotent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tempus-files-" });
  try {
    ensureDirSync(`${dir}/a/b/c`);
    ensureDirSync(`${dir}/a/b/c`);
    assert.ok(Deno.statSync(`${dir}/a/b/c`).isDirectory);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
