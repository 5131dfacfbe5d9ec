import assert from "node:assert/strict";
import {
  type BpfInstruction,
  buildDenyFilter,
  deniedCalls,
  encodeFilter,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_TRAP,
} from "./seccomp.ts";

/** A classic-BPF interpreter for the instructions the filter uses. */
function run(prog: BpfInstruction[], data: { nr: number; arch: number }): number {
  let acc = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const i = prog[pc];
    if (i.code === 0x20) acc = i.k === 0 ? data.nr : data.arch;
    else if (i.code === 0x15) pc += (acc >>> 0) === (i.k >>> 0) ? i.jt : i.jf;
    else if (i.code === 0x35) pc += (acc >>> 0) >= (i.k >>> 0) ? i.jt : i.jf;
    else if (i.code === 0x06) return i.k;
    else throw new Error(`unexpected code ${i.code}`);
  }
  throw new Error("fell off the program");
}

Deno.test("the level-2 program denies exactly the listed calls, x32 calls and other arches", () => {
  const X86 = 0xc000003e;
  const prog = buildDenyFilter(X86, [59, 322, 57, 58, 101], SECCOMP_RET_KILL_PROCESS);
  for (const nr of [59, 322, 57, 58, 101]) {
    assert.equal(run(prog, { nr, arch: X86 }), SECCOMP_RET_KILL_PROCESS, `nr ${nr}`);
  }
  for (const nr of [0, 1, 56, 60, 202, 317, 435]) {
    assert.equal(run(prog, { nr, arch: X86 }), SECCOMP_RET_ALLOW, `nr ${nr}`);
  }
  assert.equal(run(prog, { nr: 0x40000000 + 520, arch: X86 }), SECCOMP_RET_KILL_PROCESS);
  assert.equal(run(prog, { nr: 0, arch: 0x40000003 }), SECCOMP_RET_KILL_PROCESS); // i386
  const trap = buildDenyFilter(X86, [59], SECCOMP_RET_TRAP);
  assert.equal(run(trap, { nr: 59, arch: X86 }), SECCOMP_RET_TRAP);
  assert.equal(encodeFilter(prog).length, prog.length * 8);
  assert.deepEqual([...encodeFilter(prog).subarray(0, 8)], [0x20, 0, 0, 0, 4, 0, 0, 0]);
});

const CHILD = `
import { enableDenyFilter } from "${new URL("./seccomp.ts", import.meta.url).href}";
const level = Number(Deno.args[0]);
if (level === 2 || level === -2) enableDenyFilter(level);
// Normal work goes on: files, timers, sockets.
Deno.readTextFileSync("/proc/self/status");
await new Promise((r) => setTimeout(r, 10));
Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }).close();
console.log("alive " + Deno.readTextFileSync("/proc/self/status").match(/^Seccomp:\\s+(\\d)/m)[1]);
// Deno spawns through clone + execve: the new process inherits the filter and dies at execve.
let result;
try {
  const r = new Deno.Command("/bin/echo", { args: ["exec went through"] }).outputSync();
  result = r.success ? new TextDecoder().decode(r.stdout).trim() : "child " + r.signal;
} catch (e) {
  result = "spawn failed " + e.name;
}
console.log(result);
`;

async function child(level: number): Promise<{ signal: string | null; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", "-A", CHILD, String(level)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { signal: r.signal, out: new TextDecoder().decode(r.stdout) };
}

Deno.test({
  name: "-F 2 / -F -2: a filtered process works normally and nothing it starts can exec",
  ignore: Deno.build.os !== "linux" || deniedCalls().length === 0,
  async fn() {
    const control = await child(0);
    assert.match(control.out, /^alive 0$/m);
    assert.match(control.out, /^exec went through$/m, "without the filter the exec works");
    for (const level of [2, -2]) {
      const r = await child(level);
      assert.match(r.out, /^alive 2$/m, `level ${level}: ${r.out}`);
      assert.doesNotMatch(r.out, /exec went through/);
      assert.match(r.out, /^(child SIGSYS|spawn failed .*)$/m, `level ${level}: ${r.out}`);
      assert.equal(r.signal, null, "the daemon itself goes on");
      console.log(`-F ${level}: ${r.out.trim().split("\n").at(-1)}`);
    }
  },
});
