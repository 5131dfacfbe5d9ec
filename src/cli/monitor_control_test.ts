import assert from "node:assert/strict";
import { bitsToMask, parseSubnet, readMaskAddress } from "./monitor_control.ts";
import { formatIpAddr } from "../cmdmon/ip_addr.ts";

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
