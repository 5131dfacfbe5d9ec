import assert from "node:assert/strict";
import { AccessTable } from "../core/access.ts";
import { ClientLog } from "../core/client_log.ts";
import { silentLog } from "../base/ports.ts";
import { type Instant, instantFromParts } from "../base/time.ts";
import type { ReferenceState } from "../core/types.ts";
import { decodePacket, emptyPacket, encodePacket } from "../ntp/packet.ts";
import { instantToNtp64, ntp64Difference, ntp64ToInstant } from "../ntp/timestamp.ts";
import { systemTimeSource } from "../clock/kernel_ops.ts";
import { KernelSocket } from "./kernel_socket.ts";
import { singleClockScale } from "./kernel_timestamps.ts";
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
    } else assert.equal(rx, instantToNtp64(COOKED_NOW) | 1n); // low bit 1: interleaved flag
    if (timestamping === "kernel") {
      // The kernel loop reads CLOCK_REALTIME for T3 and moves it onto the cooked clock
      // through the clocks read for the batch: the stopped clock plus the time since.
      const after = ntp64Difference(d.packet.transmitTime, instantToNtp64(COOKED_NOW));
      assert.ok(after >= 0 && after < 1, `T3 ${after} s after the stopped clock`);
    } else assert.equal(d.packet.transmitTime, instantToNtp64(COOKED_NOW) & ~1n);
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

Deno.test({
  name: "ntp server (kernel): a burst is answered in batches with kernel-accurate timestamps",
  ignore: !kernelTimestampSocketsAvailable(),
  async fn() {
    // The server's cooked clock is CLOCK_REALTIME, so its T2/T3 compare with the client's
    // kernel timestamps: T1 <= T2 <= T3, and T3 is no later than the reply's arrival (T4).
    const realtime = systemTimeSource().realtime;
    const clientLog = new ClientLog({ random: () => 0.5 });
    const server = await startNtpServer({ hosts: ["127.0.0.1"], port: 0, timestamping: "kernel" }, {
      clock: singleClockScale(realtime),
      reference: () => REF,
      policy: {
        access: new AccessTable([{ allow: true, subnet: "127.0.0.0/8", all: false }]),
        clientLog,
      },
      log: silentLog,
    });
    const client = KernelSocket.open("127.0.0.1", 0, { scale: singleClockScale(realtime) });
    const COUNT = 200; // within the default socket receive buffer (about 270 small datagrams)
    try {
      const port = server.addresses[0].port;
      const sentAt: bigint[] = [];
      for (let i = 0; i < COUNT; i++) {
        const req = emptyPacket(3);
        req.transmitTime = BigInt(i + 1);
        sentAt.push(realtime());
        assert.equal(client.send(encodePacket(req), "127.0.0.1", port), null);
      }
      const seen = new Set<number>();
      const late: number[] = [];
      const deadline = Date.now() + 5000;
      while (seen.size < COUNT && Date.now() < deadline) {
        const ready = await Promise.race([
          client.waitReadable(),
          new Promise<false>((r) => setTimeout(() => r(false), 200)),
        ]);
        if (!ready) continue;
        for (let d = client.receive(); d !== null; d = client.receive()) {
          const p = decodePacket(d.data);
          assert.ok(p.ok);
          const i = Number(p.packet.originTime) - 1;
          assert.ok(i >= 0 && i < COUNT && !seen.has(i), `origin ${p.packet.originTime}`);
          seen.add(i);
          const t2 = ntp64ToInstant(p.packet.receiveTime, d.rx);
          const t3 = ntp64ToInstant(p.packet.transmitTime, d.rx);
          assert.ok(d.kernelRx);
          assert.ok(t2 >= sentAt[i], `T2 ${t2 - sentAt[i]} ns after T1`);
          assert.ok(t3 >= t2, `T3 ${t3 - t2} ns after T2`);
          // T3 is read right before the reply's sendto; on loopback the client's kernel
          // stamps the arrival inside that call.
          assert.ok(t3 <= d.rx, `T3 ${t3 - d.rx} ns after T4`);
          assert.ok(d.rx - t3 < 100_000_000n, `T4 ${d.rx - t3} ns after T3`);
          late.push(Number(d.rx - t3));
        }
      }
      assert.equal(seen.size, COUNT, "every request answered");
      // From T3 to the client's kernel receive timestamp: the send and the loopback path,
      // about 5 µs one by one, about 8 µs in sendmmsg groups of 4 (the median bounds the
      // bias a client sees; single replies may wait behind a preemption).
      late.sort((a, b) => a - b);
      const median = late[late.length >> 1];
      assert.ok(median < 15_000, `median T4 - T3 ${median} ns`);
      const s = server.stats();
      assert.equal(s.replied, COUNT);
      assert.equal(s.kernelRxTimestamps, COUNT);
      assert.equal(clientLog.serverStats().ntpKernelRxTimestamps, COUNT);
    } finally {
      client.close();
      await server.close();
    }
  },
});

for (const timestamping of ["kernel", "daemon"] as const) {
  Deno.test({
    name:
      `ntp server (${timestamping}): mode 6 goes to the control hook (all fragments), mode 7 nowhere`,
    ignore: timestamping === "kernel" && !kernelTimestampSocketsAvailable(),
    async fn() {
      const seen: number[] = [];
      const server = await startNtpServer({ hosts: ["127.0.0.1"], port: 0, timestamping }, {
        clock: SCALE,
        reference: () => REF,
        policy: {
          access: new AccessTable([{ allow: true, subnet: "127.0.0.0/8", all: false }]),
          clientLog: null,
        },
        log: silentLog,
        control: (request) => {
          seen.push(request[0] & 7);
          // Two fragments, as a long answer would be.
          return [Uint8Array.of(0xd6, 0xa2, 0, 1), Uint8Array.of(0xd6, 0x82, 0, 2)];
        },
      });
      const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      try {
        const to = {
          transport: "udp" as const,
          hostname: "127.0.0.1",
          port: server.addresses[0].port,
        };
        const mode7 = new Uint8Array(48);
        mode7[0] = (2 << 3) | 7;
        await client.send(mode7, to);
        const mode6 = new Uint8Array(12);
        mode6[0] = (2 << 3) | 6;
        mode6[1] = 2;
        await client.send(mode6, to);
        const first = await receiveWithin(client, 2000);
        const second = await receiveWithin(client, 2000);
        assert.deepEqual(first && [...first], [0xd6, 0xa2, 0, 1]);
        assert.deepEqual(second && [...second], [0xd6, 0x82, 0, 2]);
        assert.equal(await receiveWithin(client, 200), null, "nothing for mode 7");
        assert.deepEqual(seen, [6], "only mode 6 reached the hook");
        assert.ok(server.stats().ignoredMode >= 1, "mode 7 counted as ignored");
      } finally {
        client.close();
        await server.close();
      }
    },
  });
}
