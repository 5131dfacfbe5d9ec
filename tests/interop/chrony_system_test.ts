/**
 * chrony 4.3's own system tests (test/system in chrony's source) against tempus: each test
 * starts "chronyd" with chrony's standard configuration, drives it with the real chronyc and
 * checks replies, logs and files. The "chronyd" found is tests/helpers/chronyd_wrapper/chronyd,
 * which runs `tempus daemon` (always with -x).
 *
 * The scripts are not part of this repository: they come at test time from Debian's source
 * package (`apt-get source --download-only chrony`, which needs a deb-src entry; .ci/run adds
 * one), cached in /var/cache/tempus-chrony-src (TEMPUS_CHRONY_SRC overrides). Without them,
 * or without root or chronyc, every test is skipped with one line saying why. 001, 002, 003,
 * 004, 006, 007, 008 and 009 run and must pass (also under -F 2 and -F -2); 010-nts and
 * 099-scfilter are skipped by chrony's own scripts (the wrapper's feature line).
 *
 * The host clock is never touched: test.common passes -x unless a test sets clock_control=1,
 * which only the destructive 1xx tests do, and those are never run here; the wrapper adds -x
 * to every start anyway.
 *
 * @module
 */
import assert from "node:assert/strict";
import { REPO_ROOT } from "../helpers/peers.ts";

const CACHE = Deno.env.get("TEMPUS_CHRONY_SRC") ?? "/var/cache/tempus-chrony-src";
const TARBALL = "chrony_4.3.orig.tar.gz";
const WRAPPER_DIR = `${REPO_ROOT}tests/helpers/chronyd_wrapper`;

/**
 * The non-destructive tests of chrony 4.3 (001-010, 099; 005 does not exist in 4.3). The
 * 1xx tests control the clock and are never run.
 */
const TESTS = [
  "001-minimal",
  "002-extended",
  "003-memlock",
  "004-priority",
  "006-privdrop",
  "007-cmdmon",
  "008-confload",
  "009-binddevice",
  "010-nts",
  "099-scfilter",
] as const;

function haveCerttool(): boolean {
  try {
    return new Deno.Command("certtool", { args: ["--help"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Tests expected to be skipped by chrony's own script (exit code 9), with the reason. */
const EXPECTED_SKIPS: Partial<Record<(typeof TESTS)[number], string>> = {
  // 010-nts makes its certificate with GnuTLS's certtool (Debian: gnutls-bin).
  ...(haveCerttool() ? {} : { "010-nts": "certtool (gnutls-bin) is not installed" }),
  "099-scfilter": "tempus has -F 0 and -F 2/-2, not level 1 (an allow-list), which 099 " +
    "runs too: the wrapper does not advertise +SCFILTER",
};

function run(cmd: string, args: string[], cwd?: string): { code: number; out: string } {
  try {
    const r = new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).outputSync();
    const dec = new TextDecoder();
    return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
  } catch (error) {
    return { code: -1, out: error instanceof Error ? error.message : String(error) };
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Obtains chrony 4.3's test/system; returns its path, or the reason it cannot be had. */
function obtainSystemTests(): { dir: string } | { skip: string } {
  if (Deno.uid() !== 0) return { skip: "chrony's system tests need root" };
  if (run("chronyc", ["--version"]).code !== 0) return { skip: "chronyc is not installed" };
  const tarball = `${CACHE}/${TARBALL}`;
  if (!exists(tarball)) {
    try {
      Deno.mkdirSync(CACHE, { recursive: true });
    } catch (error) {
      return { skip: `cannot create ${CACHE}: ${error}` };
    }
    const r = run("apt-get", ["source", "--download-only", "chrony"], CACHE);
    if (!exists(tarball)) {
      const why = r.out.trim().split("\n").pop() ?? "";
      return {
        skip: `chrony 4.3 source not available (apt-get source --download-only chrony in ${CACHE}` +
          ` needs a deb-src entry for Debian bookworm; see .ci/run): ${why}`,
      };
    }
  }
  const dir = Deno.makeTempDirSync({ prefix: "tempus-chrony-src-" });
  const r = run("tar", ["-xzf", tarball, "-C", dir, "chrony-4.3/test/system"]);
  if (r.code !== 0) return { skip: `cannot unpack ${tarball}: ${r.out.trim()}` };
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone
    }
  });
  return { dir: `${dir}/chrony-4.3/test/system` };
}

const source = obtainSystemTests();
if ("skip" in source) console.log(`chrony system tests skipped: ${source.skip}`);

async function runSystemTest(
  dir: string,
  name: string,
  scfilter: number,
): Promise<{ code: number; out: string }> {
  const testDir = await Deno.makeTempDir({ prefix: `tempus-chrony-${name}-` });
  await Deno.chmod(testDir, 0o755); // 006-privdrop's user "nobody" must reach TEST_DIR
  try {
    const r = await new Deno.Command("bash", {
      args: [`./${name}`],
      cwd: dir,
      env: {
        CHRONY_PATH: WRAPPER_DIR,
        TEST_SCFILTER: String(scfilter),
        TEST_DIR: `${testDir}/tmp`,
        PATH: `${WRAPPER_DIR}:${Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`,
      },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(180_000),
    }).output();
    const dec = new TextDecoder();
    let logs = "";
    for (const file of ["chronyd.log", "chronyd.out", "chronyc.out"]) {
      try {
        logs += `\n--- ${file}\n${await Deno.readTextFile(`${testDir}/tmp/${file}`)}`;
      } catch {
        // not written
      }
    }
    return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) + logs };
  } finally {
    await Deno.remove(testDir, { recursive: true }).catch(() => {});
  }
}

/**
 * Every test at filter level 0, and, as 099-scfilter does for levels 2 and -2, the tests
 * chrony's scripts run with TEST_SCFILTER (their daemons start with -F LEVEL).
 */
const RUNS: { name: (typeof TESTS)[number]; scfilter: number }[] = [
  ...TESTS.map((name) => ({ name, scfilter: 0 })),
  ...[2, -2].flatMap((scfilter) =>
    TESTS.filter((n) => !(n in EXPECTED_SKIPS)).map((name) => ({ name, scfilter }))
  ),
];

for (const { name, scfilter } of RUNS) {
  const skip = EXPECTED_SKIPS[name];
  Deno.test({
    name: `chrony 4.3 test/system ${name}${scfilter === 0 ? "" : ` (-F ${scfilter})`}` +
      (skip ? ` (skipped by the script: ${skip})` : ""),
    ignore: "skip" in source,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      assert("dir" in source);
      const r = await runSystemTest(source.dir, name, scfilter);
      if (skip !== undefined) {
        assert.equal(r.code, 9, `${name} was expected to skip:\n${r.out}`);
        assert.match(r.out, /SKIP/);
        return;
      }
      assert.equal(r.code, 0, `${name} failed:\n${r.out}`);
      assert.match(r.out, /^PASS$/m);
    },
  });
}
