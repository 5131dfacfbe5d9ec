/** chronyd's dump files (issue 13, item 4): chrony 4.3's format both ways. */
import assert from "node:assert/strict";
import { silentLog } from "../base/ports.ts";
import { SourceStats } from "../core/sourcestats.ts";
import { seededRandom } from "../../tests/helpers/random.ts";
import {
  dumpedSource,
  dumpText,
  loadDumpFiles,
  loadDumpText,
  removeDumpFiles,
  writeDumpFiles,
} from "./dump.ts";

const OPTS = { minSamples: 6, maxSamples: 0, asymmetry: null, precision: 1e-7, maxClockError: 1 };
const NOW = 1_764_916_000n * 1_000_000_000n;

/** What chronyd 4.3 wrote for a source (sources.c save_source + SST_SaveToFile). */
const CHRONYD_DUMP = `SRC0
127.0.0.1
0 377 8 4 0
4 0
1764915990.250000000 -1.200000e-05 -1.200000e-05 4.100000e-05 1.500000e-06 0.000000e+00 1.900000e-06
1764915992.250000000 -1.000000e-05 -1.000000e-05 4.000000e-05 1.500000e-06 0.000000e+00 1.900000e-06
1764915994.250000000 -1.100000e-05 -1.100000e-05 4.200000e-05 1.500000e-06 0.000000e+00 1.900000e-06
1764915996.250000000 -0.900000e-05 -0.900000e-05 3.900000e-05 1.500000e-06 0.000000e+00 1.900000e-06
`;

function ntpSource(stats = new SourceStats(OPTS), key: number | null = null) {
  return {
    type: "server",
    addressText: "127.0.0.1",
    params: { key },
    reachability: 0o377,
    reachabilitySize: 8,
    stats,
  };
}

Deno.test("a chronyd 4.3 dump file loads: samples, stratum, leap (tempus sign)", () => {
  const source = dumpedSource(ntpSource(), null);
  const r = loadDumpText(source, CHRONYD_DUMP, NOW);
  assert.deepEqual(r, { ok: true, reachability: 0o377, reachabilitySize: 8 });
  assert.equal(source.stats.sampleCount, 4);
  const last = source.stats.lastSample()!;
  assert.equal(last.stratum, 4);
  assert.equal(last.leap, 0);
  assert.equal(last.offset, 0.9e-5, "chrony's local − reference becomes reference − local");
  assert.equal(last.time, 1_764_915_996_250_000_000n);
});

Deno.test("dump text round trip, and the file name of a refclock", () => {
  const source = dumpedSource(ntpSource(), null);
  assert.equal(dumpText(source), null, "no sample: no file");
  assert.ok(loadDumpText(source, CHRONYD_DUMP, NOW).ok);
  const text = dumpText(source)!;
  const lines = text.split("\n");
  assert.equal(lines.slice(0, 3).join("\n"), "SRC0\n127.0.0.1\n0 377 8 4 0");
  assert.match(lines[3], /^4 -?\d+$/, "count and the asymmetry run after the regression");
  assert.deepEqual(
    lines.slice(4),
    CHRONYD_DUMP.split("\n").slice(4).map((l) => l.replaceAll("-0.900000e-05", "-9.000000e-06")),
  );
  const again = dumpedSource(ntpSource(), "127.0.0.1");
  assert.ok(loadDumpText(again, text, NOW).ok);
  // The same file again, but for the asymmetry run, which every regression moves on.
  const skipRun = (t: string) => t.split("\n").filter((_, i) => i !== 3);
  assert.deepEqual(skipRun(dumpText(again)!), skipRun(text));
  const refclock = dumpedSource({ ...ntpSource(), type: "refclock", refId: 0x47505300 }, null);
  assert.equal(refclock.fileName, "refid:47505300");
  assert.equal(refclock.name, ".");
});

Deno.test("what chronyd refuses to load is refused", () => {
  const bad = [
    CHRONYD_DUMP.replace("SRC0", "SRC1"),
    CHRONYD_DUMP.replace("\n127.0.0.1\n", "\n127.0.0.2\n"), // another name
    CHRONYD_DUMP.replace("0 377 8 4 0", "0 377 8 16 0"), // stratum 16
    CHRONYD_DUMP.replace("0 377 8 4 0", "0 377 8 4 3"), // unsynchronised
    CHRONYD_DUMP.replace("0 377 8 4 0", "0 9 8 4 0"), // not octal
    CHRONYD_DUMP.replace("\n4 0\n", "\n5 0\n"), // short
  ];
  for (const text of bad) {
    const source = dumpedSource(ntpSource(), null);
    assert.deepEqual(loadDumpText(source, text, NOW), { ok: false }, text);
    assert.equal(source.stats.sampleCount, 0);
  }
  // An unauthenticated dump is not loaded for an authenticated source.
  const keyed = dumpedSource(ntpSource(new SourceStats(OPTS), 5), null);
  assert.deepEqual(loadDumpText(keyed, CHRONYD_DUMP, NOW), { ok: false });
  // Samples from the future are refused.
  const early = dumpedSource(ntpSource(), null);
  assert.deepEqual(loadDumpText(early, CHRONYD_DUMP, NOW - 10_000_000_000n), { ok: false });
});

Deno.test("fuzz: random dump texts never throw", () => {
  const rand = seededRandom(13);
  const pieces = ["SRC0", "127.0.0.1", "0 377 8 4 0", "4 0", "x", "", "1 1", "-1e400", "\n"];
  for (let i = 0; i < 500; i++) {
    const text = Array.from(
      { length: Math.floor(rand() * 8) },
      () => pieces[Math.floor(rand() * pieces.length)],
    ).join(rand() < 0.5 ? "\n" : " ");
    const r = loadDumpText(dumpedSource(ntpSource(), null), text, NOW);
    assert.equal(typeof r.ok, "boolean");
  }
});

Deno.test("files: write, load with chronyd's log lines, remove only dump files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tempus-dump-" });
  try {
    const source = dumpedSource(ntpSource(), null);
    assert.ok(loadDumpText(source, CHRONYD_DUMP, NOW).ok);
    const empty = dumpedSource({ ...ntpSource(), addressText: "192.0.2.9" }, null);
    await Deno.writeTextFile(`${dir}/192.0.2.9.dat`, "old");
    await Deno.writeTextFile(`${dir}/notes.dat`, "keep");
    assert.deepEqual(writeDumpFiles(dir, [source, empty]), []);
    const failed = writeDumpFiles(`${dir}/missing`, [source]);
    assert.equal(failed.length, 1, "a file that cannot be written is reported, never hidden");
    assert.match(failed[0], /missing\/127\.0\.0\.1\.dat: /);
    assert.equal(await Deno.readTextFile(`${dir}/127.0.0.1.dat`), dumpText(source));
    await assert.rejects(Deno.stat(`${dir}/192.0.2.9.dat`), "no samples: old file removed");
    const lines: string[] = [];
    const log = { log: (_l: string, m: string) => void lines.push(m) };
    let restored: number[] = [];
    const fresh = dumpedSource({
      ...ntpSource(),
      restoreReachability: (reg: number, size: number) => void (restored = [reg, size]),
    }, null);
    await Deno.writeTextFile(`${dir}/192.0.2.9.dat`, "SRC0\nbroken\n");
    const loaded = loadDumpFiles(dir, [fresh, empty], NOW, log);
    assert.equal(loaded, 1);
    assert.deepEqual(restored, [0o377, 8], "the reachability register comes back");
    assert.deepEqual(lines, [
      "Loaded dump file for 127.0.0.1",
      "Could not load dump file for 192.0.2.9",
    ]);
    assert.equal(loadDumpFiles(dir, [], NOW, silentLog), 0);
    await Deno.writeTextFile(`${dir}/refid:47505300.dat`, "x");
    removeDumpFiles(dir);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["notes.dat"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
