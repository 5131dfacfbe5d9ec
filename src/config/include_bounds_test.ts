/**
 * Include loops and floods of bad lines (issue 20, item 4): four files that include `*.conf`
 * gave 1 048 576 errors (88 MB, 475 MB RSS) and 10 MB of unknown lines 1.3 M errors. Loops are
 * now detected and reading stops after MAX_CONFIG_ERRORS errors.
 */
import assert from "node:assert/strict";
import {
  denoConfReader,
  MAX_CONFIG_ERRORS,
  MAX_CONFIG_FILES,
  MAX_CONFIG_WARNINGS,
  parseChronyConf,
  parseChronyConfText,
} from "./chrony_conf.ts";
import type { ConfReader } from "./chrony_conf.ts";
import { parseTomlConfig } from "./toml.ts";

Deno.test("four files that include *.conf: the loop is reported, errors stay bounded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tempus-loop-" });
  try {
    for (const name of ["a", "b", "c", "d"]) {
      await Deno.writeTextFile(`${dir}/${name}.conf`, `include ${dir}/*.conf\nlocal stratum 3\n`);
    }
    const started = performance.now();
    const r = parseChronyConf(`${dir}/a.conf`, denoConfReader());
    const ms = performance.now() - started;
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.ok(r.errors.length <= MAX_CONFIG_ERRORS + 1, `${r.errors.length} errors`);
    assert.match(r.errors[0].message, /include loop: .*a\.conf -> .*a\.conf/);
    assert.equal(r.errors[0].file, `${dir}/a.conf`);
    assert.equal(r.errors[0].line, 1);
    assert.ok(ms < 2000, `${ms} ms`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an include loop through a symlink is recognised (canonical paths)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tempus-loop-" });
  try {
    await Deno.writeTextFile(`${dir}/main.conf`, `include ${dir}/link.conf\n`);
    Deno.symlinkSync(`${dir}/main.conf`, `${dir}/link.conf`);
    const r = parseChronyConf(`${dir}/main.conf`, denoConfReader());
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.errors.length, 1);
      assert.match(r.errors[0].message, /include loop/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the same file included twice side by side is not a loop", () => {
  const files: Record<string, string> = { "/c/x.conf": "local stratum 4\n" };
  const reader: ConfReader = {
    readFile: (p) =>
      p in files ? { ok: true, text: files[p] } : { ok: false, error: "no such file" },
    listDir: () => null,
  };
  const r = parseChronyConfText("include /c/x.conf\ninclude /c/x.conf\n", "main", reader);
  assert.ok(r.ok, JSON.stringify(r));
});

Deno.test("10 MB of unknown lines: reading stops after MAX_CONFIG_ERRORS errors", () => {
  const text = "frobnicate the clock please\n".repeat(400_000); // ~11 MB
  const started = performance.now();
  const r = parseChronyConfText(text, "junk.conf");
  const ms = performance.now() - started;
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.errors.length, MAX_CONFIG_ERRORS + 1);
  assert.match(r.errors.at(-1)?.message ?? "", /too many errors \(20\); stopped reading/);
  assert.equal(r.errors.at(-1)?.line, MAX_CONFIG_ERRORS);
  assert.ok(ms < 2000, `${ms} ms`);
});

Deno.test("warnings are capped too, with a count of the rest", () => {
  const text = "dumponexit\n".repeat(5000);
  const r = parseChronyConfText(text, "old.conf");
  assert.ok(r.warnings.length <= MAX_CONFIG_WARNINGS + 2, `${r.warnings.length} warnings`);
  assert.match(r.warnings.at(-1)?.message ?? "", /more warnings not shown/);
});

Deno.test("a deep tree of distinct files stops at MAX_CONFIG_FILES", () => {
  // Every file includes ten others one level down: 10^10 files without a bound.
  const reader: ConfReader = {
    readFile: (p) => {
      const level = p.split("/").length;
      const text = Array.from({ length: 10 }, (_, i) => `include ${p}/${i}`).join("\n");
      return { ok: true, text: level < 8 ? text : "" };
    },
    listDir: () => null,
  };
  const r = parseChronyConfText("include /t", "main", reader);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.match(r.errors.at(-1)?.message ?? "", new RegExp(`more than ${MAX_CONFIG_FILES}`));
  }
});

Deno.test("tempus.toml: 50 000 unknown keys stop after MAX_CONFIG_ERRORS errors", () => {
  const text = Array.from({ length: 50_000 }, (_, i) => `k${i} = 1`).join("\n");
  const started = performance.now();
  const r = parseTomlConfig(text, "big.toml");
  const ms = performance.now() - started;
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.errors.length, MAX_CONFIG_ERRORS + 1);
  assert.match(r.errors.at(-1)?.message ?? "", /too many errors/);
  assert.ok(ms < 10_000, `${ms} ms`); // before: 50 001 lines and quadratic line look-ups
});
