import assert from "node:assert/strict";
import {
  type MappingUsage,
  parseSmaps,
  readOwnSmaps,
  releasableMappings,
  releaseCleanFilePages,
} from "./page_release.ts";

const SAMPLE = `55d0c0000000-55d0c1000000 r--p 00000000 fe:01 1234   /usr/bin/deno
Size:              16384 kB
Rss:                8000 kB
Anonymous:             0 kB
Locked:                0 kB
55d0c1000000-55d0c3000000 r-xp 01000000 fe:01 1234   /usr/bin/deno
Rss:               19000 kB
Anonymous:             0 kB
Locked:                0 kB
55d0c3000000-55d0c3400000 r--p 03000000 fe:01 1234   /usr/bin/deno
Rss:                4096 kB
Anonymous:          4096 kB
Locked:                0 kB
55d0c3400000-55d0c3600000 rw-p 03400000 fe:01 1234   /usr/bin/deno
Rss:                2000 kB
Anonymous:          1500 kB
Locked:                0 kB
55d0c4000000-55d0c5000000 rw-p 00000000 00:00 0      [heap]
Rss:                9000 kB
Anonymous:          9000 kB
Locked:                0 kB
7f0000000000-7f0000100000 r-xp 00000000 fe:01 99     /usr/lib/libc.so.6
Rss:                1200 kB
Anonymous:             0 kB
Locked:             1200 kB
7f0000200000-7f0000300000 r--s 00000000 fe:01 77     /root/.cache/code cache
Rss:                   0 kB
Anonymous:             0 kB
Locked:                0 kB
7f0000400000-7f0000500000 r--p 00000000 00:00 0
Rss:                 100 kB
Anonymous:           100 kB
VmFlags: rd mr mw me ac
`;

Deno.test("parseSmaps reads each mapping's range, permissions, path and kB fields", () => {
  const maps = parseSmaps(SAMPLE);
  assert.equal(maps.length, 8);
  assert.deepEqual(maps[1], {
    start: 0x55d0c1000000n,
    end: 0x55d0c3000000n,
    perms: "r-xp",
    path: "/usr/bin/deno",
    rssKb: 19000,
    anonymousKb: 0,
    lockedKb: 0,
  });
  assert.equal(maps[4].path, "[heap]");
  assert.equal(maps[5].lockedKb, 1200);
  assert.equal(maps[6].path, "/root/.cache/code cache");
  assert.equal(maps[7].path, "");
  assert.equal(maps[7].anonymousKb, 100);
});

Deno.test("releasableMappings keeps only clean, read-only, unlocked, resident file mappings", () => {
  const kept = releasableMappings(parseSmaps(SAMPLE));
  // The RELRO-like r--p with private pages, the writable data, the heap, the locked libc,
  // the mapping with nothing resident and the anonymous area are all left alone.
  assert.deepEqual(kept.map((m: MappingUsage) => [m.perms, m.rssKb]), [["r--p", 8000], [
    "r-xp",
    19000,
  ]]);
});

Deno.test("parseSmaps survives garbage and fields before any header", () => {
  const noise = "Rss: 5 kB\nnot a line\n\u0000\u00ff\nzz-yy r-xp 0 0 0 /x\n";
  assert.deepEqual(parseSmaps(noise), []);
  for (let seed = 1; seed <= 200; seed++) {
    let x = seed;
    const chars: string[] = [];
    for (let i = 0; i < 300; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      chars.push(SAMPLE[x % SAMPLE.length]);
    }
    const maps = parseSmaps(chars.join(""));
    for (const m of maps) assert.ok(m.end >= 0n && Number.isFinite(m.rssKb));
  }
});

/** RssFile of this process, kB (through libc: Deno refuses /proc/self without -A). */
function ownRssFileKb(): number {
  return parseSmaps(readOwnSmaps())
    .filter((m) => m.path.startsWith("/"))
    .reduce((sum, m) => sum + m.rssKb, 0);
}

Deno.test({
  name: "releaseCleanFilePages drops resident file pages and the process carries on",
  ignore: Deno.build.os !== "linux",
  fn() {
    const before = ownRssFileKb();
    const done = releaseCleanFilePages();
    const after = ownRssFileKb();
    assert.ok(done.mappings > 0, "some mapping was advised");
    assert.ok(done.releasedKb > 1000, `released ${done.releasedKb} kB`);
    assert.ok(after < before - 1000, `file-backed RSS ${before} -> ${after} kB`);
    // Code and data the process needs come back on their next touch.
    const text = JSON.stringify({ a: [1, 2, 3], b: new Date(0).toISOString() });
    assert.equal(JSON.parse(text).b, "1970-01-01T00:00:00.000Z");
    assert.equal(new TextDecoder().decode(new TextEncoder().encode("tempus")), "tempus");
  },
});
