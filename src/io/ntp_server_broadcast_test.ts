import assert from "node:assert/strict";
import { AccessTable } from "../core/access.ts";
import { silentLog } from "../base/ports.ts";
import { type Instant, instantFromParts } from "../base/time.ts";
import type { ReferenceState } from "../core/types.ts";
import { seededRandom } from "../../tests/helpers/random.ts";
import { kernelTimestampSocketsAvailable } from "../../ffi/udp_socket.ts";
import { startNtpServer } from "./ntp_server.ts";

const NOW = instantFromParts(1_763_900_000, 500);
const SCALE = { rawNow: () => NOW, cook: (raw: Instant) => raw };
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

for (const timestamping of ["kernel", "daemon"] as const) {
  Deno.test({
    name: `ntp server (${timestamping}) fuzz: mode 5 goes to onBroadcast, never answered; ` +
      "no reply longer than its request",
    ignore: timestamping === "kernel" && !kernelTimestampSocketsAvailable(),
    async fn() {
      const broadcasts: number[] = [];
      const server = await startNtpServer({ hosts: ["127.0.0.1"], port: 0, timestamping }, {
        clock: SCALE,
        reference: () => REF,
        policy: {
          access: AccessTable.fromRules([{ allow: true, subnet: "all", all: false }]).table,
          clientLog: null,
        },
        log: silentLog,
        onBroadcast: (data) => broadcasts.push(data.length),
      });
      const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      const to = {
        transport: "udp" as const,
        hostname: "127.0.0.1",
        port: server.addresses[0].port,
      };
      const rnd = seededRandom(timestamping === "kernel" ? 1 : 2);
      const sentLength = new Map<number, number>();
      let mode5 = 0;
      for (let i = 0; i < 200; i++) {
        // Most client requests are plain headers (answered); the rest carry random tails.
        const tail = i % 4 === 1 ? 0 : Math.floor(rnd() * 80);
        const bytes = new Uint8Array(48 + tail);
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
        const mode = i % 2 === 0 ? 5 : 3;
        bytes[0] = (4 << 3) | mode;
        new DataView(bytes.buffer).setUint32(40, i); // the reply echoes it as origin
        if (mode === 5) mode5++;
        sentLength.set(i, bytes.length);
        await conn.send(bytes, to);
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5)); // no receive-buffer loss
      }
      const replies: Uint8Array[] = [];
      const deadline = Date.now() + 1500;
      while (Date.now() < deadline) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const got = await Promise.race([
          conn.receive().then(([d]) => d.slice(), () => null),
          new Promise<null>((r) => timer = setTimeout(() => r(null), 300)),
        ]);
        clearTimeout(timer);
        if (got === null) break;
        replies.push(got);
      }
      conn.close();
      await server.close();
      assert.equal(broadcasts.length, mode5, "every mode-5 datagram reached onBroadcast");
      assert.ok(replies.length > 0, "some client requests were answered");
      for (const r of replies) {
        const i = new DataView(r.buffer).getUint32(24);
        assert.equal(i % 2, 1, `a mode-5 datagram (#${i}) was answered`);
        assert.ok(
          r.length <= sentLength.get(i)!,
          `reply ${r.length} > request ${sentLength.get(i)}`,
        );
        assert.equal(r[0] & 7, 4);
      }
    },
  });
}
