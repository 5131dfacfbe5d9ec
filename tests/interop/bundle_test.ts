/**
 * The single-file executable (`deno task dist`, scripts/dist.ts): dist/tempus runs with no
 * deno on PATH, from an empty directory, unpacking its runtime once into a cache it owns;
 * `--version` and `query` against a real chronyd -x work; a damaged file or a cache others
 * can write to is refused with one line. The measured sizes and start-up times are printed.
 * The query part is skipped when chronyd is missing.
 */
import assert from "node:assert/strict";
import { haveBinary, runCommand, startChronydServer } from "../helpers/peers.ts";
import { buildDist, type DistResult } from "../../scripts/dist.ts";

let built: Promise<DistResult> | null = null;
let workDir: string | null = null;

async function dist(): Promise<DistResult> {
  workDir ??= await Deno.makeTempDir({ prefix: "tempus-dist-" });
  built ??= buildDist(`${workDir}/tempus`);
  return built;
}

/** Runs the executable with a PATH holding no deno, from an empty directory. */
function runDist(exe: string, args: string[], cache: string, cwd: string) {
  return runCommand(exe, args, 120_000, {
    cwd,
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", TEMPUS_CACHE_DIR: cache, NO_COLOR: "1" },
  });
}

Deno.test({
  name: "dist/tempus: one file, no deno needed, unpacks once, --version and query chronyd",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const d = await dist();
    const cache = `${workDir}/cache`;
    const cwd = await Deno.makeTempDir({ prefix: "tempus-dist-cwd-" });
    try {
      const which = await runCommand("sh", ["-c", "command -v deno || echo none"], 5000, {
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      });
      assert.equal(which.stdout.trim(), "none", "a deno on the test PATH would prove nothing");
      const first = await runDist(d.output, ["--version"], cache, cwd);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^tempus \d+\.\d+\.\d+/);
      const second = await runDist(d.output, ["--version"], cache, cwd);
      assert.equal(second.code, 0, second.stderr);
      const unpacked = `${cache}/${d.id}`;
      assert.ok(Deno.statSync(`${unpacked}/deno`).isFile);
      assert.match(Deno.readTextFileSync(`${unpacked}/SHA256SUMS`), /^[0-9a-f]{64} {2}deno\n/);
      console.log(
        `dist/tempus ${(d.size / 1e6).toFixed(1)} MB (program ${(d.bundleSize / 1e3).toFixed(0)}` +
          ` KB); --version: first run (unpack) ${Math.round(first.elapsedMs)} ms, then ` +
          `${Math.round(second.elapsedMs)} ms`,
      );
      const perms = await runDist(d.output, ["permissions", "query", "127.0.0.1:123"], cache, cwd);
      assert.equal(perms.code, 0, perms.stderr);
      assert.doesNotMatch(perms.stdout, /^-A$|--allow-all/m);
      assert.match(perms.stdout, /^--allow-net=0\.0\.0\.0:0,127\.0\.0\.1:123,\[::\]:0$/m);
      if (!haveBinary("chronyd")) return;
      const server = await startChronydServer();
      try {
        const q = await runDist(d.output, ["query", "--json", server.target], cache, cwd);
        assert.equal(q.code, 0, q.stderr);
        const json = JSON.parse(q.stdout);
        assert.equal(json.ok, true);
        assert.equal(json.stratum, 1);
        assert.ok(Math.abs(json.offset) < 0.01, `offset ${json.offset}`);
        console.log(`dist/tempus query (sandboxed): ${Math.round(q.elapsedMs)} ms`);
      } finally {
        await server.stop();
      }
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "dist/tempus: a damaged file or a cache others can write to is refused",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const d = await dist();
    const cwd = await Deno.makeTempDir({ prefix: "tempus-dist-cwd-" });
    try {
      const bytes = await Deno.readFile(d.output);
      bytes[bytes.length - 1000] ^= 0xff; // inside the gzip'd program
      const damaged = `${workDir}/damaged`;
      await Deno.writeFile(damaged, bytes, { mode: 0o755 });
      const r = await runDist(damaged, ["--version"], `${workDir}/cache-damaged`, cwd);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /tempus: .*(damaged|cannot unpack)/);
      assert.ok(
        [...Deno.readDirSync(`${workDir}/cache-damaged`)].length === 0,
        "nothing left in the cache",
      );
      const open = `${workDir}/cache-open`;
      await Deno.mkdir(open);
      await Deno.chmod(open, 0o777);
      const o = await runDist(d.output, ["--version"], open, cwd);
      assert.equal(o.code, 1);
      assert.match(o.stderr, /writable by others/);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

globalThis.addEventListener("unload", () => {
  if (workDir) Deno.removeSync(workDir, { recursive: true });
});
