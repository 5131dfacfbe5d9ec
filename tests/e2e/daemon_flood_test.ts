/**
 * e2e: a bounded flood of malformed and valid NTP requests against a running `tempus
 * daemon -x` that is synchronised to a real chronyd. Afterwards the daemon is still
 * synchronised (chronyc shows its source selected), its memory did not keep growing, and
 * every reply it sent was a 48-octet answer, never longer than any request it answered.
 */
import assert from "node:assert/strict";
import { emptyPacket, encodePacket } from "../../src/ntp/packet.ts";
import { ReplyCollector } from "./fixtures/fixture_process.ts";
import { freeUdpPort, haveBinary, startChronydServer } from "../helpers/peers.ts";
import { startTempusDaemon } from "../helpers/tempus_daemon.ts";

function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? "0");
}

function request(i: number, random: () => number): Uint8Array {
  if (i % 4 === 0) {
    const p = emptyPacket(3);
    p.transmitTime = BigInt(i) << 20n;
    return encodePacket(p);
  }
  const garbage = new Uint8Array(1 + Math.floor(random() * 120));
  for (let j = 0; j < garbage.length; j++) garbage[j] = Math.floor(random() * 256);
  if (i % 4 === 1) garbage[0] = (garbage[0] & 0xf8) | 7; // mode 7
  return garbage;
}

Deno.test({
  name: "daemon: a flood of malformed and valid requests leaves it synchronised and bounded",
  ignore: !haveBinary("chronyd") || !haveBinary("chronyc"),
  async fn() {
    const upstream = await startChronydServer();
    const ntpPort = freeUdpPort();
    const daemon = await startTempusDaemon(upstream.port, [
      "allow 127.0.0.0/8",
      "bindaddress 127.0.0.1",
      `port ${ntpPort}`,
      "clientloglimit 4096",
    ]);
    const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const collector = new ReplyCollector(sock);
    const selected = async () => /^\^\* 127\.0\.0\.1/m.test(await daemon.chronyc("sources"));
    try {
      await daemon.waitSelected();
      let seed = 7;
      const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      const rss: number[] = [];
      let sent = 0;
      let valid = 0;
      for (let phase = 0; phase < 3; phase++) {
        for (let i = 0; i < 4000; i++) {
          const packet = request(sent, random);
          if (sent % 4 === 0) valid++;
          sent++;
          await sock.send(packet, { transport: "udp", hostname: "127.0.0.1", port: ntpPort });
          if (i % 200 === 199) await new Promise((r) => setTimeout(r, 2));
        }
        await new Promise((r) => setTimeout(r, 300));
        rss.push(rssKiB(daemon.child.pid));
      }
      await collector.waitFor(valid, 3000);
      console.log(
        `flood: ${sent} requests (${valid} valid), ${collector.replies.length} replies, ` +
          `RSS ${rss.map((r) => Math.round(r / 1024)).join(" -> ")} MiB`,
      );
      assert.ok(collector.replies.length > 0, "valid requests are answered");
      assert.ok(collector.replies.length <= valid, "malformed requests get no reply");
      for (const reply of collector.replies) assert.equal(reply.data.length, 48);
      assert.ok(rss[2] - rss[0] < 40 * 1024, `RSS grew ${rss[0]} -> ${rss[2]} KiB`);
      assert.ok(await selected(), "still synchronised after the flood");
    } finally {
      sock.close();
      await collector.done;
      await daemon.stop();
      await upstream.stop();
    }
  },
});
