/** Going to the background (issue 13, item 1) and logging there (syslog, as chronyd). */
import assert from "node:assert/strict";
import { ownCommandLine, staysInForeground } from "./daemonize.ts";
import { syslogDatagram, SyslogSink } from "./syslog.ts";

const BASE = { noFork: false, debugLevel: 0, oneShot: null, notifySocket: undefined, child: false };

Deno.test("tempus daemon forks unless -n, -d, -q/-Q, systemd Type=notify, or already forked", () => {
  assert.equal(staysInForeground(BASE), false);
  assert.equal(staysInForeground({ ...BASE, noFork: true }), true);
  assert.equal(staysInForeground({ ...BASE, debugLevel: 1 }), true);
  assert.equal(staysInForeground({ ...BASE, oneShot: "set" }), true);
  assert.equal(staysInForeground({ ...BASE, notifySocket: "/run/systemd/notify" }), true);
  assert.equal(staysInForeground({ ...BASE, notifySocket: "" }), false);
  assert.equal(staysInForeground({ ...BASE, child: true }), true);
});

Deno.test("the re-executed command line is this process's own argv", () => {
  const argv = ownCommandLine();
  assert.ok(argv.length >= 2);
  assert.ok(argv.some((a) => a.endsWith("daemonize_test.ts") || a === "test"));
});

Deno.test("syslog datagrams: facility daemon, the level's severity, ident[pid]", () => {
  assert.equal(
    syslogDatagram("info", "tempus", 42, "tempus exiting"),
    "<30>tempus[42]: tempus exiting",
  );
  assert.equal(syslogDatagram("error", "chronyd", 1, "x"), "<27>chronyd[1]: x");
  assert.equal(syslogDatagram("warning", "t", 1, "x"), "<28>t[1]: x");
  assert.equal(syslogDatagram("debug", "t", 1, "x"), "<31>t[1]: x");
});

Deno.test({
  name: "SyslogSink sends one datagram per line to the log socket",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir();
    const listener = Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/log` });
    const sink = new SyslogSink("tempus", `${dir}/log`);
    try {
      sink.write("warning", "first\nsecond");
      const got: string[] = [];
      for (let i = 0; i < 2; i++) got.push(new TextDecoder().decode((await listener.receive())[0]));
      assert.deepEqual(got, [`<28>tempus[${Deno.pid}]: first`, `<28>tempus[${Deno.pid}]: second`]);
    } finally {
      sink.close();
      listener.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
