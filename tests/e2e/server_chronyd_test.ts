/**
 * e2e: a real `chronyd -Q` (measure only, never touches the clock) takes samples from
 * tempus's NTP server on loopback and reports "System clock wrong by X seconds"; |X| must
 * stay below 100 µs, since both sides read the same system clock.
 */
import assert from "node:assert/strict";
import { startFixture } from "./fixtures/fixture_process.ts";
import { chronydMeasure, haveBinary } from "../helpers/peers.ts";

Deno.test({
  name: "server e2e: chronyd -Q measures |offset| < 100 µs against tempus",
  ignore: !haveBinary("chronyd"),
  async fn() {
    const server = await startFixture(["--host", "127.0.0.1", "--port", "0"]);
    try {
      const offset = await chronydMeasure(server.host, server.port);
      console.log(`chronyd -Q measured ${offset} s against the fixture`);
      assert.ok(Math.abs(offset) < 100e-6, `chronyd measured ${offset} s`);
    } finally {
      await server.stop();
    }
  },
});
