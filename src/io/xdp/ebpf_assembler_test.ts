import assert from "node:assert/strict";
import { EbpfAssembler } from "./ebpf_assembler.ts";

function words(bytes: Uint8Array): string[] {
  return [...Array(bytes.length / 8).keys()].map((i) =>
    [...bytes.subarray(i * 8, i * 8 + 8)].map((b) => b.toString(16).padStart(2, "0")).join("")
  );
}

Deno.test("ebpf assembler: encodings match the kernel's (as llvm-objdump prints them)", () => {
  const p = new EbpfAssembler()
    .mov("r6", "r1") // bf 16
    .mov("r0", 2) // b7 00 .. imm 2
    .load(32, "r2", "r1", 4) // 61 12 0400
    .store(16, "r6", 36, "r1") // 6b 16 2400
    .store(64, "r10", -24, 1) // 7a 0a e8ff imm 1
    .alu64("arsh", "r2", 32) // c7 02 imm 32
    .alu32("mov", "r1", -1) // b4 01 imm -1
    .toBigEndian("r1", 32) // dc 01 imm 32
    .atomicAdd64("r0", 0, "r1") // db 10 imm 0
    .call(5) // 85 00 imm 5
    .exit(); // 95
  assert.deepEqual(words(p.encode()), [
    "bf16000000000000",
    "b700000002000000",
    "6112040000000000",
    "6b16240000000000",
    "7a0ae8ff01000000",
    "c702000020000000",
    "b4010000ffffffff",
    "dc01000020000000",
    "db10000000000000",
    "8500000005000000",
    "9500000000000000",
  ]);
});

Deno.test("ebpf assembler: jumps resolve to labels, 64-bit loads take two slots", () => {
  const p = new EbpfAssembler()
    .jump("jne", "r4", 0x0008, "out") // 0: skips the 4 slots after it
    .loadImm64("r2", 0x1_0000_0002n) // 1-2
    .loadMap("r1", 7) // 3-4
    .label("out")
    .jump("jsgt", "r1", "r2", "out") // 5: back to itself
    .goto("out");
  const w = words(p.encode());
  assert.equal(w.length, 7);
  assert.equal(w[0], "5504040008000000");
  assert.equal(w[1], "1802000002000000");
  assert.equal(w[2], "0000000001000000");
  assert.equal(w[3], "1811000007000000");
  assert.equal(w[5], "6d21ffff00000000");
  assert.equal(w[6], "0500feff00000000");
});

Deno.test("ebpf assembler: bad immediates and labels are refused", () => {
  assert.throws(() => new EbpfAssembler().mov("r0", 2 ** 33), RangeError);
  assert.throws(() => new EbpfAssembler().mov("r0", 1.5), RangeError);
  assert.throws(() => new EbpfAssembler().goto("nowhere").encode(), /not defined/);
  assert.throws(() => new EbpfAssembler().label("a").label("a"), /twice/);
});
