/**
 * Error answers byte for byte as a real chronyd gives them: the same malformed, short,
 * old-version, unknown and unauthorised UDP requests go to `chronyd -x` and to tempus's
 * `handleCommand`, and the replies (or silence) must be identical.
 */
import assert from "node:assert/strict";
import { encodeRequest } from "../../src/cmdmon/codec.ts";
import { REQ } from "../../src/cmdmon/constants.ts";
import { handleCommand } from "../../src/cmdmon/server.ts";
import { FakeControl } from "../helpers/fake_control.ts";

function hasChronyd(): boolean {
  try {
    new Deno.Command("chronyd", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return true;
  } catch {
    return false;
  }
}

function freePort(): number {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  conn.close();
  return port;
}

function hex(b: Uint8Array | null): string | null {
  return b === null ? null : Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function ask(
  conn: Deno.DatagramConn,
  port: number,
  packet: Uint8Array,
): Promise<Uint8Array | null> {
  await conn.send(packet, { transport: "udp", hostname: "127.0.0.1", port });
  const timeout = new Promise<null>((r) => setTimeout(() => r(null), 300));
  const got = await Promise.race([conn.receive().then(([d]) => d.slice()), timeout]);
  return got;
}

Deno.test({
  name: "error replies equal chronyd's byte for byte",
  ignore: !hasChronyd(),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tempus-cmderr-" });
    await Deno.chmod(dir, 0o700);
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/chrony.conf`,
      `port 0\ncmdport ${port}\nbindcmdaddress 127.0.0.1\nbindcmdaddress /\npidfile ${dir}/pid\n`,
    );
    const chronyd = new Deno.Command("chronyd", {
      args: ["-x", "-u", "root", "-d", "-f", `${dir}/chrony.conf`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      const tracking = encodeRequest({ command: REQ.TRACKING, sequence: 0x11223344 });
      const with_ = (f: (p: Uint8Array) => void, base = tracking) => {
        const p = base.slice();
        f(p);
        return p;
      };
      const cases: Array<[string, Uint8Array]> = [
        ["version 5", with_((p) => (p[0] = 5))],
        ["version 4 (dropped)", with_((p) => (p[0] = 4))],
        ["version 7", with_((p) => (p[0] = 7))],
        ["short for its command", tracking.subarray(0, 103)],
        ["shorter than a reply header", tracking.subarray(0, 27)],
        ["reply type", with_((p) => (p[1] = 2))],
        ["reserved byte", with_((p) => (p[2] = 1))],
        ["obsolete command", with_((p) => (p[5] = 38))],
        ["command beyond the table", with_((p) => (p[5] = 200))],
        ["makestep over UDP", encodeRequest({ command: REQ.MAKESTEP, sequence: 5 })],
        ["manual on over UDP", encodeRequest({ command: REQ.MANUAL, sequence: 6 })],
        ["too long", new Uint8Array([...tracking, ...new Uint8Array(800)])],
        ["null command", encodeRequest({ command: REQ.NULL, sequence: 7 })],
        ["rtcdata without RTC", encodeRequest({ command: REQ.RTCREPORT, sequence: 8 })],
        ["smoothing disabled", encodeRequest({ command: REQ.SMOOTHING, sequence: 9 })],
        [
          "source index out of range",
          encodeRequest({ command: REQ.SOURCE_DATA, sequence: 10, data: { index: 5 } }),
        ],
      ];
      // Wait for chronyd's command socket.
      let ready = false;
      for (let i = 0; i < 40 && !ready; i++) {
        ready = (await ask(conn, port, tracking)) !== null;
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ready, "chronyd answers");
      for (const [label, packet] of cases) {
        const theirs = await ask(conn, port, packet);
        const ours = handleCommand(packet, { full: false }, new FakeControl());
        assert.equal(hex(ours), hex(theirs), label);
      }
    } finally {
      conn.close();
      chronyd.kill("SIGTERM");
      await chronyd.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
