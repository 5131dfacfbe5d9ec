/**
 * e2e: the real `ntpdig` (ntpsec) queries tempus's NTP server on 127.0.0.151:123 and sees a
 * synchronised stratum-1 server with an offset of about zero.
 */
import assert from "node:assert/strict";
import { canBind, hasBinary, startFixture } from "./fixtures/fixture_process.ts";

const HOST = "127.0.0.151";
const ready = hasBinary("ntpdig") && canBind(HOST, 123);

Deno.test({
  name: "server e2e: ntpdig sees stratum 1 and offset ~0",
  ignore: !ready,
  async fn() {
    const server = await startFixture(["--host", HOST, "--port", "123"]);
    try {
      const out = await new Deno.Command("ntpdig", {
        args: ["-j", "-t", "2", "-p", "3", "-g", "100", HOST],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout).trim();
      assert.ok(out.success, `ntpdig failed: ${new TextDecoder().decode(out.stderr)}`);
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
