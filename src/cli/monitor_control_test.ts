import assert from "node:assert/strict";
import { bitsToMask, parseSubnet, readMaskAddress, runControl } from "./monitor_control.ts";
import type { MonitorContext } from "./monitor_context.ts";
import type { CmdmonClient } from "../cmdmon/client.ts";
import { REQ } from "../cmdmon/constants.ts";
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

Deno.test("option words are the tables' own: 'toString' is a syntax error, nothing is sent", async () => {
  const sent: number[] = [];
  const client = {
    request(command: number) {
      sent.push(command);
      return Promise.resolve(null);
    },
  } as unknown as CmdmonClient;
  const ctx: MonitorContext = {
    client,
    flags: { csv: false, noDns: true, verbose: false, all: false, json: false },
    write: () => {},
    json: () => {},
  };
  const error = console.error;
  const errors: string[] = [];
  console.error = (text: string) => errors.push(text);
  try {
    assert.equal(await runControl(ctx, "manual", ["toString"]), false);
    assert.equal(await runControl(ctx, "smoothtime", ["constructor"]), false);
    assert.equal(await runControl(ctx, "local", ["toString", "5"]), false);
    assert.equal(await runControl(ctx, "add", ["server", "192.0.2.1", "toString"]), false);
  } finally {
    console.error = error;
  }
  assert.deepEqual(sent, []);
  assert.deepEqual(errors, [
    "Invalid syntax for manual command",
    "Invalid syntax for smoothtime command",
    "Invalid syntax for local command",
    "Invalid option toString",
  ]);
  // The real words still go out.
  assert.equal(await runControl(ctx, "manual", ["on"]), false); // no daemon: 506
  assert.deepEqual(sent, [REQ.MANUAL]);
});
