import assert from "node:assert/strict";
import { parseChronyConfText } from "./chrony_conf.ts";
import { IMPLEMENTED_DIRECTIVES } from "./directives.ts";
import { parseTomlConfig } from "./toml.ts";
import { memReader } from "../../tests/helpers/mem_reader.ts";

/** A small seeded PRNG (xorshift32) so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const WORDS = [
  ...IMPLEMENTED_DIRECTIVES,
  "include",
  "confdir",
  "sourcedir",
  "all",
  "iburst",
  "minpoll",
  "maxpoll",
  "interval",
  "stratum",
  "orphan",
  "-1",
  "0",
  "1e309",
  "NaN",
  "-0.5",
  "65536",
  "1.2.3",
  "::/0",
  "/",
  "/etc/x/*.conf",
  "/etc/x/[z-a]*.conf",
  "/etc/x/[!b]?.conf",
  "[",
  "'",
  '"',
  "\\",
  "#",
  "\u0000",
  "\u00e9",
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
];

Deno.test("random chrony.conf lines never throw and always give a result", () => {
  const next = rng(12345);
  const reader = memReader({
    "/etc/x/a.conf": "server a\n",
    "/etc/x/b.conf": "include /etc/x/*.conf\n",
  });
  let errorsSeen = 0;
  for (let i = 0; i < 3000; i++) {
    const lines: string[] = [];
    const n = 1 + Math.floor(next() * 5);
    for (let l = 0; l < n; l++) {
      const words: string[] = [];
      const w = Math.floor(next() * 7);
      for (let k = 0; k < w; k++) {
        if (next() < 0.1) {
          words.push(
            String.fromCharCode(
              ...Array.from(
                { length: 1 + Math.floor(next() * 6) },
                () => Math.floor(next() * 0x3000),
              ),
            ),
          );
        } else {
          words.push(WORDS[Math.floor(next() * WORDS.length)]);
        }
      }
      lines.push(words.join(next() < 0.5 ? " " : "\t"));
    }
    const r = parseChronyConfText(lines.join("\n"), "fuzz.conf", reader);
    assert.ok(typeof r.ok === "boolean");
    if (!r.ok) {
      errorsSeen++;
      for (const e of r.errors) {
        assert.equal(e.file.length > 0, true);
        assert.ok(e.message.length > 0);
      }
    }
  }
  assert.ok(errorsSeen > 100, "the fuzzer should hit errors");
});

Deno.test("random bytes as chrony.conf and as TOML never throw", () => {
  const next = rng(777);
  for (let i = 0; i < 2000; i++) {
    const len = Math.floor(next() * 200);
    const text = String.fromCharCode(
      ...Array.from({ length: len }, () => Math.floor(next() * 128)),
    );
    assert.ok(typeof parseChronyConfText(text, "f").ok === "boolean");
    assert.ok(typeof parseTomlConfig(text, "f.toml").ok === "boolean");
  }
});

Deno.test("random TOML documents from valid pieces never throw", () => {
  const next = rng(4242);
  const keys = [
    "source",
    "clock",
    "server",
    "cmd",
    "log",
    "rtc",
    "selection",
    "pidfile",
    "x",
    "__proto__",
  ];
  const values = [
    "1",
    "-1",
    "1.5",
    "true",
    '"s"',
    '"/p"',
    "[]",
    '["a"]',
    "[1, 2]",
    "{}",
    "{ threshold = 1, limit = 2 }",
    "[{ name = 'a' }]",
    "1e400",
    "nan",
  ];
  const sub = [
    "driftfile",
    "makestep",
    "allow",
    "access",
    "socket",
    "kinds",
    "sync",
    "name",
    "type",
    "iburst",
    "minpoll",
    "local",
    "ratelimit",
    "toString",
  ];
  for (let i = 0; i < 2000; i++) {
    const lines: string[] = [];
    for (let l = 0; l < 1 + Math.floor(next() * 6); l++) {
      const r = next();
      if (r < 0.2) lines.push(`[${keys[Math.floor(next() * keys.length)]}]`);
      else if (r < 0.3) lines.push(`[[${keys[Math.floor(next() * keys.length)]}]]`);
      else {
        const k = next() < 0.5
          ? sub[Math.floor(next() * sub.length)]
          : keys[Math.floor(next() * keys.length)];
        lines.push(`${k} = ${values[Math.floor(next() * values.length)]}`);
      }
    }
    const res = parseTomlConfig(lines.join("\n"), "f.toml");
    assert.ok(typeof res.ok === "boolean");
  }
});
