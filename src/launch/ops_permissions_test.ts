import assert from "node:assert/strict";
import { grantsFor } from "./permissions.ts";
import type { HostFacts } from "./grants.ts";

function host(files: Record<string, string> = {}): HostFacts {
  return {
    env: () => undefined,
    readText: (path) => files[path] ?? null,
    reader: {
      readFile: (path) =>
        path in files ? { ok: true, text: files[path] } : { ok: false, error: "no such file" },
      listDir: () => null,
    },
    execPath: () => "/opt/deno/deno",
  };
}

Deno.test("permissions (ops): now reads only its page; plot and replay their files", () => {
  const now = grantsFor(["now", "--json"], host());
  assert.deepEqual([now.read, now.write, now.net, now.ffi], [
    ["/var/run/tempus/errorbound"],
    [],
    [],
    ["*"],
  ]);
  assert.deepEqual(grantsFor(["now", "--file", "/run/x/eb"], host()).read, ["/run/x/eb"]);
  const plot = grantsFor(["plot", "/var/log/tempus", "-o", "/tmp/p.svg"], host());
  assert.deepEqual([plot.read, plot.write, plot.net], [["/var/log/tempus"], ["/tmp/p.svg"], []]);
  const live = grantsFor(["plot", "--url", "http://127.0.0.1:9975"], host());
  assert.deepEqual([live.read, live.net], [[], ["127.0.0.1:9975"]]);
  const replay = grantsFor(
    ["replay", "/var/log/tempus", "-f", "/etc/t.conf", "-q"],
    host({ "/etc/t.conf": "server 192.0.2.1\n" }),
  );
  assert.ok(replay.read.includes("/var/log/tempus") && replay.read.includes("/etc/t.conf"));
  assert.deepEqual([replay.write, replay.net], [[], []]);
});

Deno.test("permissions (ops): the daemon may write its page and recording, serve metrics", () => {
  const conf = [
    "server 192.0.2.1",
    "bindcmdaddress /",
    "pidfile /run/t/pid",
    "metricsport 9975",
    "errorboundfile /run/tempus/eb",
    "recordmeasurements /var/log/tempus/rec.jsonl",
  ].join("\n");
  const g = grantsFor(["daemon", "-d", "-f", "/etc/t.conf"], host({ "/etc/t.conf": conf }));
  for (const p of ["/run/tempus/eb", "/run/tempus", "/var/log/tempus/rec.jsonl"]) {
    assert.ok(g.write.includes(p) && g.read.includes(p), p);
  }
  assert.ok(Array.isArray(g.net) && g.net.includes("127.0.0.1:9975"), String(g.net));
});
