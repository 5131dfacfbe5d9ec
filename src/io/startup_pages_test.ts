import assert from "node:assert/strict";
import { scheduleStartupPageRelease } from "./startup_pages.ts";
import type { LogLevel } from "../base/ports.ts";

function recorder() {
  const lines: [LogLevel, string][] = [];
  return {
    lines,
    log: { log: (level: LogLevel, message: string) => lines.push([level, message]) },
  };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("the start-up pages are released once, after the delay, and the release is logged", async () => {
  const { lines, log } = recorder();
  let calls = 0;
  scheduleStartupPageRelease(log, {
    lockMemory: false,
    delayMs: 10,
    release: () => {
      calls++;
      return { mappings: 3, releasedKb: 30 * 1024 };
    },
  });
  assert.equal(calls, 0);
  await wait(40);
  assert.equal(calls, 1);
  assert.deepEqual(lines, [[
    "debug",
    "Released 30.0 MB of start-up pages (3 read-only file mappings)",
  ]]);
});

Deno.test("with -m (locked memory) nothing is released; a cancelled release never runs", async () => {
  let calls = 0;
  const release = () => {
    calls++;
    return { mappings: 0, releasedKb: 0 };
  };
  scheduleStartupPageRelease(recorder().log, { lockMemory: true, delayMs: 1, release });
  const cancel = scheduleStartupPageRelease(recorder().log, {
    lockMemory: false,
    delayMs: 5,
    release,
  });
  cancel();
  await wait(30);
  assert.equal(calls, 0);
});

Deno.test("a failing release is logged as a warning", async () => {
  const { lines, log } = recorder();
  scheduleStartupPageRelease(log, {
    lockMemory: false,
    delayMs: 1,
    release: () => {
      throw new Error("madvise(/x): Invalid argument");
    },
  });
  await wait(30);
  assert.deepEqual(lines, [[
    "warning",
    "Could not release start-up pages: madvise(/x): Invalid argument",
  ]]);
});
