import assert from "node:assert/strict";
import { daemonAddresses, parseMonitorArgs } from "./monitor.ts";
import { parseHostList } from "../cmdmon/client.ts";
import { defaultConfig } from "../config/defaults.ts";

Deno.test("options after the command, chronyc's -p clash in clients", () => {
  const a = parseMonitorArgs("sources", ["-v", "-h", "/run/x.sock,127.0.0.1", "-p", "1323", "-n"]);
  assert.ok(typeof a !== "string");
  assert.equal(a.hosts, "/run/x.sock,127.0.0.1");
  assert.equal(a.port, 1323);
  assert.ok(a.flags.verbose && a.flags.noDns && !a.flags.csv);
  const c = parseMonitorArgs("clients", ["-p", "5", "--port", "1323", "-k"]);
  assert.ok(typeof c !== "string");
  assert.equal(c.clients.minHits, 5);
  assert.equal(c.port, 1323);
  const d = parseMonitorArgs("doffset", ["-0.25"]);
  assert.ok(typeof d !== "string");
  assert.deepEqual(d.positional, ["-0.25"]);
  assert.equal(typeof parseMonitorArgs("tracking", ["-p", "x"]), "string");
  assert.equal(typeof parseMonitorArgs("tracking", ["-h"]), "string");
  const csv = parseMonitorArgs("sources", ["-c", "-v"]);
  assert.ok(typeof csv !== "string" && !csv.flags.verbose, "-v is ignored in CSV mode");
});

Deno.test("host lists: socket paths, IPs, bracketed IPv6", () => {
  assert.deepEqual(parseHostList("/var/run/chrony/chronyd.sock,127.0.0.1,[::1]", 323), [
    { kind: "unix", path: "/var/run/chrony/chronyd.sock" },
    { kind: "udp", hostname: "127.0.0.1", port: 323 },
    { kind: "udp", hostname: "::1", port: 323 },
  ]);
});

Deno.test("default daemon addresses: the Unix socket, then 127.0.0.1, then ::1; -4/-6 filter", async () => {
  const all = await daemonAddresses(null, 323);
  assert.deepEqual(all.map((a) => a.kind === "unix" ? a.path : a.hostname), [
    defaultConfig().cmdSocket,
    "127.0.0.1",
    "::1",
  ]);
  const v4 = await daemonAddresses("localhost", 1323, 4);
  assert.deepEqual(v4, [{ kind: "udp", hostname: "127.0.0.1", port: 1323 }]);
  const v6 = await daemonAddresses("127.0.0.1,::1", 1323, 6);
  assert.deepEqual(v6, [{ kind: "udp", hostname: "::1", port: 1323 }]);
  const parsed = parseMonitorArgs("tracking", ["-4"]);
  assert.ok(typeof parsed !== "string" && parsed.ipVersion === 4);
});
