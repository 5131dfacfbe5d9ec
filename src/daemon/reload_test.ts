/** `reload sources` and the configured sources at start (issue 13, items 4 and 6). */
import assert from "node:assert/strict";
import type { ConfReader } from "../config/chrony_conf.ts";
import type { SourceConfig } from "../config/model.ts";
import type { LogLevel } from "../base/ports.ts";
import {
  addConfiguredSources,
  fromSourceDir,
  scheduleRefresh,
  SourceDirReloader,
  type SourceSet,
} from "./reload.ts";

function memoryReader(files: Map<string, string>): ConfReader {
  return {
    readFile: (path) =>
      files.has(path) ? { ok: true, text: files.get(path)! } : { ok: false, error: "no such file" },
    listDir: (dir) => {
      const names = [...files.keys()].filter((p) => p.startsWith(`${dir}/`)).map((p) =>
        p.slice(dir.length + 1)
      );
      return names;
    },
  };
}

function fakeSet(inUse: string[] = []) {
  const live: SourceConfig[] = [];
  const removed: SourceConfig[] = [];
  const set: SourceSet = {
    add(config) {
      const present = inUse.includes(config.name) || live.some((c) => c.name === config.name);
      if (!present) live.push(config);
      return { present, resolved: Promise.resolve() };
    },
    removeConfig(config) {
      live.splice(live.indexOf(config), 1);
      removed.push(config);
    },
  };
  return { set, live, removed };
}

function recordingLog() {
  const lines: string[] = [];
  return {
    lines,
    log: (level: LogLevel, message: string) => void lines.push(`${level} ${message}`),
  };
}

Deno.test("reload sources: deleted, changed, emptied and new files, as chrony's 008-confload", () => {
  const files = new Map([
    ["/s/1.sources", "server 127.123.5.1\n"],
    ["/s/2.sources", "server 127.123.5.2\n"],
    ["/s/3.sources", "server 127.123.5.3\n"],
  ]);
  const reader = memoryReader(files);
  const { set, live, removed } = fakeSet();
  const out = recordingLog();
  // Start: the sources read by the configuration (origin names the file).
  const loader = new SourceDirReloader(["/s"], [], set, { log: out.log }, reader);
  assert.deepEqual(loader.reload(), { ok: true });
  assert.deepEqual(live.map((c) => c.name), ["127.123.5.1", "127.123.5.2", "127.123.5.3"]);
  const kept3 = live[2];
  files.delete("/s/1.sources");
  files.set("/s/2.sources", "server 127.123.5.2 minpoll 7\n");
  files.set("/s/4.sources", "server 127.123.5.4\nserver 127.123.5.3\n");
  files.set("/s/3.sources", "\n");
  assert.deepEqual(loader.reload(), { ok: true });
  assert.deepEqual(removed.map((c) => c.name), ["127.123.5.1", "127.123.5.2"]);
  assert.deepEqual(live.map((c) => c.name), ["127.123.5.3", "127.123.5.2", "127.123.5.4"]);
  assert.equal(live[0], kept3, "an unchanged line keeps its source (and its state)");
  assert.equal(live[1].params.minPoll, 7);
  assert.deepEqual(out.lines, []);
});

Deno.test("reload sources: a file that does not parse changes nothing and fails", () => {
  const files = new Map([["/s/1.sources", "server 127.123.5.1\n"]]);
  const { set, live } = fakeSet();
  const out = recordingLog();
  const loader = new SourceDirReloader(["/s"], [], set, { log: out.log }, memoryReader(files));
  loader.reload();
  files.set("/s/1.sources", "server 127.123.5.9 minpoll x\nlogdir /tmp\n");
  const r = loader.reload();
  assert.equal(r.ok, false);
  assert.deepEqual(live.map((c) => c.name), ["127.123.5.1"]);
  assert.ok(out.lines.some((l) => l.startsWith("error /s/1.sources:1")), out.lines.join("\n"));
  assert.ok(out.lines.some((l) => /1\.sources:2.*not allowed in a sources file/.test(l)));
});

Deno.test("configured sources: a duplicate is logged as chronyd does and not kept", async () => {
  const { set, live } = fakeSet(["192.0.2.9"]);
  const out = recordingLog();
  const config = (name: string): SourceConfig => ({
    type: "server",
    name,
    params: {} as SourceConfig["params"],
    origin: "/etc/c.conf:1",
  });
  const r = addConfiguredSources(set, [config("192.0.2.1"), config("192.0.2.9")], {
    log: out.log,
  });
  await r.resolved;
  assert.deepEqual(r.added.map((c) => c.name), ["192.0.2.1"]);
  assert.deepEqual(live.map((c) => c.name), ["192.0.2.1"]);
  assert.deepEqual(out.lines, ["error Could not add source 192.0.2.9"]);
});

Deno.test("fromSourceDir: only *.sources files directly in a sourcedir", () => {
  assert.ok(fromSourceDir("/etc/chrony/sources.d/a.sources:3", ["/etc/chrony/sources.d"]));
  assert.ok(fromSourceDir("/etc/chrony/sources.d/a.sources:3", ["/etc/chrony/sources.d/"]));
  assert.ok(!fromSourceDir("/etc/chrony/chrony.conf:3", ["/etc/chrony/sources.d"]));
  assert.ok(!fromSourceDir("/etc/chrony/sources.d/x/a.sources:1", ["/etc/chrony/sources.d"]));
});

Deno.test("refresh directive: names resolved again every N seconds; 0 never", () => {
  const pending: { delay: number; fn: () => void }[] = [];
  const timers = {
    setTimer: (delay: number, fn: () => void) => pending.push({ delay, fn }),
    cancelTimer: () => {},
  };
  let refreshed = 0;
  scheduleRefresh(timers, 0, () => refreshed++);
  assert.equal(pending.length, 0);
  scheduleRefresh(timers, 1209600, () => refreshed++);
  assert.deepEqual(pending.map((p) => p.delay), [1209600]);
  pending.shift()!.fn();
  assert.equal(refreshed, 1);
  assert.deepEqual(pending.map((p) => p.delay), [1209600], "and again two weeks later");
});
