import assert from "node:assert/strict";
import { daemonAddresses, parseMonitorArgs } from "../../../src/cli/monitor.ts";
import {
  bitsToMask,
  buildAddSource,
  parseSubnet,
  readMaskAddress,
} from "../../../src/cli/monitor_control.ts";
import { parseHostList } from "../../../src/cmdmon/client.ts";
import { defaultConfig } from "../../../src/config/defaults.ts";
import { encodeRequest } from "../../../src/cmdmon/codec.ts";
import { REQ } from "../../../src/cmdmon/constants.ts";
import { formatIpAddr } from "../../../src/cmdmon/ip_addr.ts";

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

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

Deno.test("subnets and mask/address as chronyc parses them", async () => {
  const s = parseSubnet("1.2.3");
  assert.ok(s);
  assert.equal(formatIpAddr(s.ip), "1.2.3.0");
  assert.equal(s.subnetBits, 24);
  assert.equal(parseSubnet("10/8")?.subnetBits, 8);
  assert.equal(parseSubnet("2001:db8::/32")?.subnetBits, 32);
  assert.equal(parseSubnet("1.2.3.4")?.subnetBits, 32);
  assert.equal(parseSubnet("1.2.3.4/33"), null);
  assert.equal(parseSubnet("bogus"), null);
  assert.equal(formatIpAddr(bitsToMask(20, 1)), "255.255.240.0");
  const ma = await readMaskAddress("255.255.255.0/1.2.3.0");
  assert.ok(ma);
  assert.equal(formatIpAddr(ma.mask), "255.255.255.0");
  const bits = await readMaskAddress("192.0.2.0/24");
  assert.ok(bits);
  assert.equal(formatIpAddr(bits.mask), "255.255.255.0");
  assert.equal(formatIpAddr(bits.address), "192.0.2.0");
  const host = await readMaskAddress("1.2.3.4");
  assert.equal(formatIpAddr(host!.mask), "255.255.255.255");
  const none = await readMaskAddress(undefined);
  assert.equal(none!.address.family, 0);
  assert.equal(await readMaskAddress("1.2.3.4/::1"), null);
});

Deno.test("add server builds the request chronyc 4.3 sends", () => {
  const data = buildAddSource(["server", "1.2.3.4"]);
  assert.ok(typeof data !== "string");
  const packet = encodeRequest({ command: REQ.ADD_SOURCE, sequence: 1, data });
  assert.equal(packet.length, 372);
  const tail =
    "0000007b000000060000000a0000006400000000000000080000000000000004ffffffffffffffff000000000000116c06c00000000000000aa000000000000004800000000000000000000100000000000000000000000000000000";
  assert.equal(hex(packet.subarray(20, 28)), "00000001312e322e");
  assert.equal(hex(packet.subarray(280)), tail);
  const pool = buildAddSource(["pool", "pool.example", "iburst", "maxpoll", "8", "offline"]);
  assert.ok(typeof pool !== "string");
  assert.equal(pool.type, 3);
  assert.equal(pool.maxpoll, 8);
  assert.equal(pool.flags, 0x4);
  assert.equal(typeof buildAddSource(["server"]), "string");
  assert.equal(typeof buildAddSource(["server", "x", "minpoll"]), "string");
  assert.equal(typeof buildAddSource(["server", "x", "frobnicate"]), "string");
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
