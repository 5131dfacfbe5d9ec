import assert from "node:assert/strict";
import { ReopenableFileSink, setupLoggingSync } from "./logging.ts";

Deno.test("stderr lines carry time, level, message and fields; the level filters", async () => {
  const lines: string[] = [];
  const logging = setupLoggingSync({
    level: "info",
    journal: false,
    stderrWriter: (l) => lines.push(l),
  });
  try {
    const log = logging.port("engine");
    log.log("debug", "hidden");
    log.log("info", "Selected source 192.0.2.1", { offset: -0.5, name: "a b" });
    log.log("warning", "System clock wrong by 1.5 seconds {not a placeholder}");
    log.log("error", "bad", { n: 12n });
  } finally {
    await logging.close();
  }
  assert.equal(lines.length, 3);
  assert.match(
    lines[0],
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {4}Selected source 192\.0\.2\.1 offset=-0\.5 name="a b"$/,
  );
  assert.match(lines[1], /WARNING System clock wrong by 1\.5 seconds \{not a placeholder\}$/);
  assert.match(lines[2], /ERROR {3}bad n=12$/);
});

Deno.test("journal mode: <N> priorities, no timestamp; auto-detected from JOURNAL_STREAM", async () => {
  const lines: string[] = [];
  const logging = setupLoggingSync({
    level: "debug",
    journal: "auto",
    env: (name) => (name === "JOURNAL_STREAM" ? "8:12345" : undefined),
    stderrWriter: (l) => lines.push(l),
  });
  try {
    const log = logging.port();
    log.log("debug", "d");
    log.log("info", "i");
    log.log("warning", "w");
    log.log("error", "e");
    log.log("warning", "two\nlines", { error: new Error("boom") });
  } finally {
    await logging.close();
  }
  assert.deepEqual(lines, ["<7>d", "<6>i", "<4>w", "<3>e", '<4>two\n<4>lines error="boom"']);
});

Deno.test("file sink appends, and reopen() follows a rotated file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tempus-log-" });
  const path = `${dir}/tempus.log`;
  const logging = setupLoggingSync({ stderr: false, file: path, level: "info" });
  try {
    const log = logging.port("daemon");
    log.log("info", "first");
    Deno.renameSync(path, `${path}.1`);
    log.log("info", "second"); // still goes to the renamed file (open descriptor)
    logging.reopen();
    log.log("warning", "third");
  } finally {
    await logging.close();
  }
  try {
    const rotated = Deno.readTextFileSync(`${path}.1`);
    const fresh = Deno.readTextFileSync(path);
    assert.match(rotated, /INFO {4}first\n.*INFO {4}second\n$/);
    assert.match(fresh, /^\S+ WARNING third\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ReopenableFileSink survives its directory going away", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tempus-log-" });
  const sink = new ReopenableFileSink(`${dir}/x.log`);
  try {
    sink.write("a");
    await Deno.remove(dir, { recursive: true });
    sink.reopen(); // cannot re-create: writes are dropped, nothing throws
    sink.write("b");
  } finally {
    sink.close();
  }
  assert.throws(() => Deno.statSync(dir));
});

Deno.test("setupLoggingSync reconfigures at once (the last configuration wins)", async () => {
  const first: string[] = [];
  const second: string[] = [];
  const a = setupLoggingSync({ journal: true, stderrWriter: (l) => first.push(l) });
  a.port().log("info", "to first");
  const b = setupLoggingSync({
    journal: true,
    level: "error",
    stderrWriter: (l) => second.push(l),
  });
  try {
    b.port().log("info", "filtered");
    b.port("x").log("error", "to second");
  } finally {
    await b.close();
  }
  assert.deepEqual(first, ["<6>to first"]);
  assert.deepEqual(second, ["<3>to second"]);
});
