/**
 * e2e: a real `chronyd -Q` (measure only, never touches the clock) takes samples from
 * tempus's NTP server on loopback and reports "System clock wrong by X seconds"; |X| must
 * stay below 100 µs, since both sides read the same system clock.
 */
import assert from "node:assert/strict";
import { hasBinary, startFixture, withTimeout } from "./fixtures/fixture_process.ts";

Deno.test({
  name: "server e2e: chronyd -Q measures |offset| < 100 µs against tempus",
  ignore: !hasBinary("chronyd"),
  async fn() {
    const server = await startFixture(["--host", "127.0.0.1", "--port", "0"]);
    const dir = await Deno.makeTempDir({ prefix: "tempus_chronyd_q_" });
    let chronyd: Deno.ChildProcess | null = null;
    try {
      chronyd = new Deno.Command("chronyd", {
        args: [
          "-Q",
          // As root, stay root (no drop to the packaged user, so the pidfile can be removed).
          ...(Deno.uid() === 0 ? ["-u", "root"] : []),
          "-t",
          "20",
          `server ${server.host} port ${server.port} iburst`,
          `pidfile ${dir}/chronyd.pid`,
          "cmdport 0",
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const out = await withTimeout(chronyd.output(), 30_000, "chronyd -Q did not finish");
      chronyd = null;
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      const m = /System clock wrong by (-?[0-9.]+) seconds/.exec(text);
      assert.ok(m !== null, `no offset in chronyd output:\n${text}`);
      const offset = Number(m[1]);
      assert.ok(Math.abs(offset) < 100e-6, `chronyd measured ${offset} s`);
    } finally {
      if (chronyd !== null) {
        try {
          chronyd.kill("SIGKILL");
        } catch { /* gone */ }
        await chronyd.status;
      }
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
