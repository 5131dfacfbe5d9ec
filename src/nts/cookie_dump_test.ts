import assert from "node:assert/strict";
import {
  decodeNtsDump,
  dumpFileName,
  encodeNtsDump,
  MAX_DUMP_LENGTH,
  type NtsDump,
} from "./cookie_dump.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";

const rnd = seededRandom(0xd0d0);

const DUMP: NtsDump = {
  keServer: "ntp.example",
  kePort: 4460,
  aeadId: 15,
  c2sKey: new Uint8Array(32).fill(1),
  s2cKey: new Uint8Array(32).fill(2),
  cookies: [new Uint8Array(104).fill(3), new Uint8Array(104).fill(4)],
  ntpServer: "192.0.2.1",
  ntpPort: 123,
  established: 1_700_000_000,
};

Deno.test("NTS dump: round trip, and a file name without path characters", () => {
  const r = decodeNtsDump(encodeNtsDump(DUMP));
  assert.ok(r.ok);
  assert.deepEqual(r.dump, DUMP);
  assert.equal(dumpFileName("a/../b", "::1"), "a_.._b@__1.nts");
});

Deno.test("NTS dump: malformed documents are refused with a reason", () => {
  const good = JSON.parse(encodeNtsDump(DUMP));
  const cases: Record<string, unknown>[] = [
    { ...good, format: "other" },
    { ...good, c2sKey: "zz" },
    { ...good, s2cKey: "00" },
    { ...good, cookies: ["abc"] },
    { ...good, cookies: "00" },
    { ...good, kePort: 0 },
    { ...good, ntpPort: 70000 },
    { ...good, ntpServer: "" },
    { ...good, established: "x" },
  ];
  for (const c of cases) {
    const r = decodeNtsDump(JSON.stringify(c));
    assert.equal(r.ok, false, JSON.stringify(c).slice(0, 80));
  }
  assert.equal(decodeNtsDump("[]").ok, false);
  assert.equal(decodeNtsDump("null").ok, false);
  assert.equal(decodeNtsDump(" ".repeat(MAX_DUMP_LENGTH + 1)).ok, false);
});

Deno.test("NTS dump fuzz: random and mutated text never throws", () => {
  const base = encodeNtsDump(DUMP);
  const alphabet = '{}[]":,0123456789abcdefxyz-. \n';
  for (let i = 0; i < 3000; i++) {
    let text: string;
    if (i % 2 === 0) {
      const chars = base.split("");
      const edits = 1 + Math.floor(rnd() * 8);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * chars.length);
        chars[at] = alphabet[Math.floor(rnd() * alphabet.length)];
      }
      text = chars.join("");
    } else {
      const bytes = randomBytes(rnd, new Uint8Array(Math.floor(rnd() * 300)));
      text = new TextDecoder().decode(bytes);
    }
    const r = decodeNtsDump(text);
    if (r.ok) {
      assert.ok(r.dump.c2sKey.length > 0 && r.dump.cookies.every((c) => c.length % 4 === 0));
    } else assert.equal(typeof r.error, "string");
  }
});
