import assert from "node:assert/strict";
import { fragmentData, layoutVariables, parseNameList } from "./payload.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

Deno.test("mode 6 payload: ', ' between items, CRLF before a line passes 72, final CRLF", () => {
  const items = Array.from({ length: 12 }, (_, i) => `name${i}=value${i}`);
  const { bytes, omitted } = layoutVariables(items, 10_000);
  const text = dec.decode(bytes);
  assert.equal(omitted, 0);
  assert.ok(text.endsWith("\r\n"));
  const lines = text.slice(0, -2).split(",\r\n");
  assert.ok(lines.length > 1);
  for (const line of lines) assert.ok(line.length < 72, line);
  assert.deepEqual(lines.join(", ").split(", "), items);
});

Deno.test("mode 6 payload: items past the cap are left out whole and counted", () => {
  const items = Array.from({ length: 100 }, (_, i) => `v${i}=${"x".repeat(20)}`);
  const { bytes, omitted } = layoutVariables(items, 468);
  assert.ok(bytes.length <= 468);
  assert.ok(omitted > 0);
  for (const item of dec.decode(bytes).split(/, |,\r\n|\r\n/).filter((s) => s !== "")) {
    assert.match(item, /^v\d+=x{20}$/);
  }
});

Deno.test("mode 6 payload: fragments of at most 468 octets cover the data in order", () => {
  const data = new Uint8Array(1000).map((_, i) => i & 0xff);
  const frags = fragmentData(data);
  assert.deepEqual(frags.map((f) => f.length), [468, 468, 64]);
  assert.deepEqual([...frags.flatMap((f) => [...f])], [...data]);
  assert.equal(fragmentData(new Uint8Array(0)).length, 1);
});

Deno.test("mode 6 payload: name lists: values dropped, blanks trimmed, bad bytes refused", () => {
  assert.deepEqual(parseNameList(enc.encode("a, b=3,a")), { ok: true, names: ["a", "b"] });
  assert.deepEqual(parseNameList(enc.encode("")), { ok: true, names: [] });
  assert.deepEqual(parseNameList(enc.encode("leap\0\0")), { ok: true, names: ["leap"] });
  assert.deepEqual(parseNameList(enc.encode("a,,b")), { ok: false });
  assert.deepEqual(parseNameList(Uint8Array.of(0x61, 0xff)), { ok: false });
});
