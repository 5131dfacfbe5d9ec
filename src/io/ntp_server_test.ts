import assert from "node:assert/strict";
import { AccessTable } from "../core/access.ts";
import { ClientLog } from "../core/client_log.ts";
import { silentLog } from "../core/ports.ts";
import { type Instant, instantFromParts } from "../core/time.ts";
import type { ReferenceState } from "../core/types.ts";
import { decodePacket, emptyPacket, encodePacket } from "../ntp/packet.ts";
import { instantToNtp64, ntp64Difference } from "../ntp/timestamp.ts";
import { startNtpServer } from "./ntp_server.ts";
import { kernelTimestampSocketsAvailable } from "../../ffi/udp_socket.ts";

const NOW = instantFromParts(1_763_900_000, 500);
/**
 * A clock stopped at NOW on the raw scale whose cooked time runs 1000 ppm fast from BASE (a
 * slew in progress): a kernel timestamp `age` old is cooked to cook(NOW - age).
 */
const BASE = instantFromParts(1_763_899_000);
const SCALE = {
  rawNow: () => NOW,
  cook: (raw: Instant) => raw + (raw - BASE) / 1000n,
};
const COOKED_NOW = SCALE.cook(NOW);
const REF: ReferenceState = {
  synchronised: true,
  leap: 0,
  stratum: 3,
  refId: 0x0a000001,
  refTime: NOW,
  rootDelay: 0.001,
  rootDispersion: 0.001,
  dispersionRate: 0,
  precisionLog2: -20,
};

async function receiveWithin(conn: Deno.DatagramConn, ms: number): Promise<Uint8Array | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((r) => timer = setTimeout(() => r(null), ms));
  try {
    const got = await Promise.race([conn.receive().then(([d]) => d).catch(() => null), timeout]);
    return got;
  } finally {
    clearTimeout(timer);
  }
}

for (const timestamping of ["kernel", "daemon"] as const) {
  Deno.test({
    name: `ntp server (${timestamping}): answers on loopback, survives garbage, closes cleanly`,
    ignore: timestamping === "kernel" && !kernelTimestampSocketsAvailable(),
    fn: () => serveOnce(timestamping),
  });
}

async function serveOnce(timestamping: "kernel" | "daemon") {
  const clientLog = new ClientLog({ random: () => 0.5 });
  const server = await startNtpServer({ hosts: ["127.0.0.1"], port: 0, timestamping }, {
    clock: SCALE,
    reference: () => REF,
    policy: {
      access: new AccessTable([{ allow: true, subnet: "127.0.0.0/8", all: false }]),
      clientLog,
    },
    log: silentLog,
  });
  const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port: server.addresses[0].port };
    assert.notEqual(to.port, 0);
    for (const junk of [new Uint8Array(0), new Uint8Array(47), new Uint8Array(3000).fill(0xff)]) {
      await client.send(junk, to);
    }
    const req = emptyPacket(3);
    req.transmitTime = 0x1234_5678_9abc_def0n;
    await client.send(encodePacket(req), to);
    const reply = await receiveWithin(client, 2000);
    assert.ok(reply !== null, "no reply");
    assert.equal(reply.length, 48);
    const d = decodePacket(reply);
    assert.ok(d.ok);
    assert.equal(d.packet.stratum, 3);
    assert.equal(d.packet.originTime, 0x1234_5678_9abc_def0n);
    // The kernel's timestamp is cooked at its own instant, a little before now (its age on
    // CLOCK_REALTIME); the Deno socket reads the cooked clock.
    const rx = d.packet.receiveTime;
    if (timestamping === "kernel") {
      const before = ntp64Difference(instantToNtp64(COOKED_NOW), rx);
      assert.ok(before > 0 && before < 1, `${before} s before now`);
    } else assert.equal(rx, instantToNtp64(COOKED_NOW));
    assert.equal(d.packet.transmitTime, instantToNtp64(COOKED_NOW));
    const s = server.stats();
    assert.equal(s.received, 4);
    assert.equal(s.malformed, 2);
    assert.equal(s.ignoredMode, 1, "0xff... is mode 7");
    assert.equal(s.replied, 1);
    assert.equal(server.timestamping, timestamping);
    assert.equal(s.kernelRxTimestamps, timestamping === "kernel" ? 4 : 0);
    const ss = clientLog.serverStats();
    assert.equal(ss.ntpHits, 1);
    assert.equal(ss.ntpKernelRxTimestamps, timestamping === "kernel" ? 1 : 0);
    assert.equal(ss.ntpDaemonRxTimestamps, timestamping === "kernel" ? 0 : 1);
    assert.equal(ss.ntpDaemonTxTimestamps, 1);
  } finally {
    client.close();
    await server.close();
  }
}

Deno.test("ntp server: a bind failure rejects and leaves nothing open", async () => {
  if (kernelTimestampSocketsAvailable()) {
    await assert.rejects(() =>
      startNtpServer({ hosts: ["127.0.0.1", "192.0.2.254"], port: 0, timestamping: "kernel" }, {
        clock: SCALE,
        reference: () => REF,
        policy: { access: new AccessTable(), clientLog: null },
        log: silentLog,
      })
    );
  }
  await assert.rejects(() =>
    startNtpServer({ hosts: ["127.0.0.1", "192.0.2.254"], port: 0, timestamping: "daemon" }, {
      clock: SCALE,
      reference: () => REF,
      policy: { access: new AccessTable(), clientLog: null },
      log: silentLog,
    })
  );
});

for (const timestamping of ["kernel", "daemon"] as const) {
  Deno.test({
    name: `ntp server (${timestamping}): default dual-stack socket serves IPv4 and IPv6`,
    ignore: timestamping === "kernel" && !kernelTimestampSocketsAvailable(),
    async fn() {
      const access = new AccessTable([
        { allow: true, subnet: "127.0.0.0/8", all: false },
        { allow: true, subnet: "::1", all: false },
      ]);
      const clientLog = new ClientLog({ random: () => 0.5 });
      const server = await startNtpServer({ hosts: [], port: 0, timestamping }, {
        clock: SCALE,
        reference: () => REF,
        policy: { access, clientLog },
        log: silentLog,
      });
      const v4 = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      let v6: Deno.DatagramConn | null = null;
      try {
        const port = server.addresses[0].port;
        assert.equal(server.addresses[0].hostname, "::");
        await v4.send(encodePacket(emptyPacket(3)), {
          transport: "udp",
          hostname: "127.0.0.1",
          port,
        });
        assert.ok((await receiveWithin(v4, 2000)) !== null, "no reply over IPv4");
        try {
          v6 = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
        } catch {
          v6 = null; // no IPv6 loopback here
        }
        if (v6 !== null) {
          await v6.send(encodePacket(emptyPacket(3)), { transport: "udp", hostname: "::1", port });
          assert.ok((await receiveWithin(v6, 2000)) !== null, "no reply over IPv6");
        }
        const names = clientLog.clients(NOW).map((c) => c.address).sort();
        assert.deepEqual(names, v6 !== null ? ["127.0.0.1", "::1"] : ["127.0.0.1"]);
      } finally {
        v4.close();
        v6?.close();
        await server.close();
      }
    },
  });
}
