import assert from "node:assert/strict";
import { bitsToMask, buildAddSource, parseSubnet, readMaskAddress } from "./monitor_control.ts";
import { encodeRequest } from "../cmdmon/codec.ts";
import { REQ } from "../cmdmon/constants.ts";
import { formatIpAddr } from "../cmdmon/ip_addr.ts";

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

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
