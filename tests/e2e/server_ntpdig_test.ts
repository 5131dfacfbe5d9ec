/**
 * e2e: the real `ntpdig` (ntpsec) queries tempus's NTP server on 127.0.0.151:123 and sees a
 * synchronised stratum-1 server with an offset of about zero.
 */
import assert from "node:assert/strict";
import { startFixture } from "./fixtures/fixture_process.ts";
import { canBind, haveBinary, runCommand } from "../helpers/peers.ts";

const HOST = "127.0.0.151";
const ready = haveBinary("ntpdig") && canBind(HOST, 123);

Deno.test({
  name: "server e2e: ntpdig sees stratum 1 and offset ~0",
  ignore: !ready,
  async fn() {
    const server = await startFixture(["--host", HOST, "--port", "123"]);
    try {
      const out = await runCommand("ntpdig", ["-j", "-t", "2", "-p", "3", "-g", "100", HOST]);
      const text = out.stdout.trim();
      assert.ok(out.code === 0, `ntpdig failed: ${out.stderr}`);
      const result = JSON.parse(text.split("\n").pop()!);
      assert.equal(result.stratum, 1);
      assert.equal(result.leap, "no-leap");
      assert.equal(result.ip, HOST);
      assert.ok(Math.abs(result.offset) < 0.005, `offset ${result.offset} s`);
    } finally {
      await server.stop();
    }
  },
});
