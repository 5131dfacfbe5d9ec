/**
 * The client's own Unix socket (issue 20, item 3): it is bound in a directory the client has
 * just created exclusively, set up without following links, so whoever can write the server
 * socket's directory cannot turn `tempus tracking -h SOCK` run as root into a chmod of any
 * directory.
 */
import assert from "node:assert/strict";
import { CmdmonClient } from "./client.ts";
import { encodeReply } from "./codec.ts";
import { REQ, RPY, STT } from "./constants.ts";

/** A fake daemon on `path`: answers N_SOURCES requests, records client paths and their modes. */
function fakeDaemon(path: string) {
  const conn = Deno.listenDatagram({ transport: "unixpacket", path });
  const seen: Array<{ path: string; dirModes: number[]; sockMode: number; uid: number | null }> =
    [];
  const loop = (async () => {
    try {
      for await (const [data, addr] of conn) {
        const client = (addr as Deno.UnixAddr).path;
        const parts = client.split("/");
        const dir2 = parts.slice(0, -1).join("/");
        const dir1 = parts.slice(0, -2).join("/");
        seen.push({
          path: client,
          dirModes: [dir1, dir2].map((d) => (Deno.lstatSync(d).mode ?? 0) & 0o7777),
          sockMode: (Deno.lstatSync(client).mode ?? 0) & 0o777,
          uid: Deno.lstatSync(dir1).uid,
        });
        const sequence = new DataView(data.buffer, data.byteOffset).getUint32(8);
        await conn.send(
          encodeReply({
            command: REQ.N_SOURCES,
            reply: RPY.N_SOURCES,
            status: STT.SUCCESS,
            sequence,
            data: { nSources: 3 },
          }),
          addr,
        );
      }
    } catch {
      // closed
    }
  })();
  return {
    seen,
    async close() {
      conn.close();
      await loop;
    },
  };
}

async function ask(path: string): Promise<number | null> {
  const client = new CmdmonClient({ addresses: [{ kind: "unix", path }], timeoutMs: 500 });
  try {
    const reply = await client.request(REQ.N_SOURCES);
    return reply !== null && reply.reply === RPY.N_SOURCES ? reply.data.nSources : null;
  } finally {
    await client.close();
  }
}

Deno.test("client socket: planted links for our pid are never followed, nothing is chmod-ed", async () => {
  const shared = await Deno.makeTempDir({ prefix: "tempus-shared-" });
  const victim = await Deno.makeTempDir({ prefix: "tempus-victim-" });
  try {
    Deno.chmodSync(shared, 0o777); // world-writable, no sticky bit: the worst case
    Deno.chmodSync(victim, 0o700);
    // What an attacker would plant for the coming client PIDs (this test's own included).
    for (const name of [`tempus.${Deno.pid}`, `chronyc.${Deno.pid}`]) {
      Deno.symlinkSync(victim, `${shared}/${name}`);
    }
    const daemon = fakeDaemon(`${shared}/tempus.sock`);
    try {
      assert.equal(await ask(`${shared}/tempus.sock`), 3);
    } finally {
      await daemon.close();
    }
    assert.equal((Deno.statSync(victim).mode ?? 0) & 0o777, 0o700, "victim chmod-ed");
    assert.deepEqual([...Deno.readDirSync(victim)], [], "something created in the victim");
    const [seen] = daemon.seen;
    assert.ok(seen.path.startsWith(`${shared}/tempus.${Deno.pid}.`), seen.path);
    assert.match(seen.path, /\/[A-Za-z0-9]{16}\/sock$/);
    assert.deepEqual(seen.dirModes, [0o711, 0o711]);
    assert.equal(seen.sockMode, 0o666);
    // Cleaned up: only the planted links and the server socket remain.
    const left = [...Deno.readDirSync(shared)].map((e) => e.name).sort();
    assert.deepEqual(left, [`chronyc.${Deno.pid}`, `tempus.${Deno.pid}`, "tempus.sock"].sort());
  } finally {
    await Deno.remove(shared, { recursive: true });
    await Deno.remove(victim, { recursive: true });
  }
});

Deno.test({
  name: "client socket: a run directory owned by the daemon's user (nobody) still works as root",
  ignore: Deno.uid() !== 0,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "tempus-rundir-" });
    try {
      const run = `${base}/run`;
      Deno.mkdirSync(run, { mode: 0o750 });
      Deno.chownSync(run, 65534, 65534);
      const daemon = fakeDaemon(`${run}/tempus.sock`);
      try {
        assert.equal(await ask(`${run}/tempus.sock`), 3);
      } finally {
        await daemon.close();
      }
      const [seen] = daemon.seen;
      assert.ok(seen.path.startsWith(`${run}/tempus.${Deno.pid}.`), seen.path);
      assert.equal(seen.uid, 0);
      assert.deepEqual([...Deno.readDirSync(run)].map((e) => e.name), ["tempus.sock"]);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});
