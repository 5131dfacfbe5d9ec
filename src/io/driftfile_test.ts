import assert from "node:assert/strict";
import { formatDriftFile, parseDriftFile, readDriftFile, writeDriftFile } from "./driftfile.ts";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "tempus-drift-" });
}

Deno.test("format is chrony's %20.6f %20.6f with chrony's frequency sign", () => {
  const text = formatDriftFile({ freqPpm: 12.3456789, skewPpm: 0.0789 });
  assert.equal(text, "          -12.345679             0.078900\n");
  assert.equal(text.length, 42);
  assert.equal(
    formatDriftFile({ freqPpm: -3.5, skewPpm: 1 }),
    "            3.500000             1.000000\n",
  );
  assert.equal(
    formatDriftFile({ freqPpm: 0, skewPpm: 0 }),
    "            0.000000             0.000000\n",
  );
});

Deno.test("parse round-trips and converts the sign back", () => {
  const r = parseDriftFile(formatDriftFile({ freqPpm: 12.5, skewPpm: 0.25 }));
  assert.ok(r.ok);
  assert.deepEqual(r.value, { freqPpm: 12.5, skewPpm: 0.25 });
  // A file written by chronyd ("-3.541 0.075": clock gains 3.541 ppm... chrony sign).
  const c = parseDriftFile("   -3.541000     0.075000\n");
  assert.ok(c.ok);
  assert.deepEqual(c.value, { freqPpm: 3.541, skewPpm: 0.075 });
});

Deno.test("parse rejects garbage with a reason", () => {
  for (
    const bad of [
      "",
      "   \n",
      "12.5",
      "abc def",
      "1.0 -2.0",
      "1e9 1",
      "NaN 1",
      "1 Infinity",
      "\u0000\u0000",
    ]
  ) {
    const r = parseDriftFile(bad);
    assert.equal(r.ok, false, JSON.stringify(bad));
  }
});

Deno.test("readDriftFile: missing → null silently; empty/garbage → null with a warning", async () => {
  const dir = await tempDir();
  try {
    assert.deepEqual(readDriftFile(`${dir}/none`), { drift: null, warning: null });
    await Deno.writeTextFile(`${dir}/empty`, "");
    const e = readDriftFile(`${dir}/empty`);
    assert.equal(e.drift, null);
    assert.match(e.warning ?? "", /Could not read valid frequency and skew from driftfile .*empty/);
    await Deno.writeFile(`${dir}/bin`, new Uint8Array([0xff, 0xfe, 0, 1, 2]));
    assert.equal(readDriftFile(`${dir}/bin`).drift, null);
    assert.notEqual(readDriftFile(`${dir}/bin`).warning, null);
    const d = readDriftFile(dir); // a directory
    assert.equal(d.drift, null);
    assert.notEqual(d.warning, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeDriftFile replaces the file atomically and leaves no temp file", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/drift`;
    await writeDriftFile(path, { freqPpm: 1, skewPpm: 2 });
    await writeDriftFile(path, { freqPpm: -7.25, skewPpm: 0.5 });
    assert.deepEqual(readDriftFile(path), {
      drift: { freqPpm: -7.25, skewPpm: 0.5 },
      warning: null,
    });
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["drift"]);
    await assert.rejects(writeDriftFile(`${dir}/no/such/dir/drift`, { freqPpm: 0, skewPpm: 0 }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const CHILD = new URL("../../tests/helpers/driftfile_writer_child.ts", import.meta.url).pathname;

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } finally {
    reader.releaseLock();
  }
  return text.trim();
}

Deno.test("kill -9 during repeated writes never leaves a torn or empty driftfile; a restart reads it", async () => {
  const dir = await tempDir();
  const path = `${dir}/drift`;
  let lastSkew = 0;
  try {
    for (let round = 0; round < 12; round++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-write", CHILD, "write", path],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      try {
        assert.equal(await readLine(child.stdout), "ready");
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 60));
      } finally {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
        await child.stdout.cancel().catch(() => {});
        const status = await child.status;
        assert.equal(status.signal, "SIGKILL");
      }
      const text = Deno.readTextFileSync(path);
      const r = parseDriftFile(text);
      assert.ok(r.ok, `round ${round}: torn driftfile ${JSON.stringify(text)}`);
      // The writer keeps skew = 1000 * chrony frequency; a mix of two writes breaks it.
      assert.ok(Math.abs(r.value.skewPpm - r.value.freqPpm * -1000) < 1e-6, text);
      assert.ok(r.value.skewPpm >= 1);
      lastSkew = r.value.skewPpm;
      if (Deno.env.get("TEMPUS_TEST_VERBOSE")) console.log(`round ${round}: ${lastSkew} writes`);
    }
    // One fixed temp name: at most one file left behind, whatever the number of kills
    // (earlier versions left a .drift.tmp-PID-RANDOM per kill, forever).
    const temps = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n !== "drift");
    assert.ok(temps.length <= 1, `left behind: ${temps.join(" ")}`);
    const reader = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", CHILD, "read", path],
      stdout: "piped",
      stderr: "piped",
    });
    const out = await reader.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const restarted = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(restarted.warning, null);
    assert.equal(restarted.drift.skewPpm, lastSkew);
    assert.equal(restarted.drift.freqPpm, -lastSkew / 1000);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["drift"]); // cleaned up
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readDriftFile at start removes temp files an earlier crash left (old and new names)", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/drift`;
    await writeDriftFile(path, { freqPpm: 1, skewPpm: 2 });
    for (const name of [".drift.tmp-1234-0a1b2c3d", ".drift.tmp-99-deadbeef", ".drift.tmp"]) {
      Deno.writeTextFileSync(`${dir}/${name}`, "junk");
    }
    Deno.writeTextFileSync(`${dir}/.other.tmp-1-0a1b2c3d`, "not ours");
    assert.deepEqual(readDriftFile(path).drift, { freqPpm: 1, skewPpm: 2 });
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, [".other.tmp-1-0a1b2c3d", "drift"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("concurrent writes of one driftfile share the fixed temp name safely", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/drift`;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => writeDriftFile(path, { freqPpm: i, skewPpm: i + 1 })),
    );
    assert.deepEqual(readDriftFile(path).drift, { freqPpm: 19, skewPpm: 20 });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["drift"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a link planted at the temp name is replaced, never written through", async () => {
  const dir = await tempDir();
  try {
    const victim = `${dir}/victim`;
    Deno.writeTextFileSync(victim, "precious\n");
    Deno.symlinkSync(victim, `${dir}/.drift.tmp`);
    await writeDriftFile(`${dir}/drift`, { freqPpm: 1, skewPpm: 2 });
    assert.equal(Deno.readTextFileSync(victim), "precious\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
