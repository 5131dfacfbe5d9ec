/**
 * Holdover end to end (issue 12): `tempus daemon -x` synchronised to a real `chronyd -x`,
 * serving NTP itself; the upstream is stopped, and tempus goes on serving a degrading but
 * synchronised time, as chronyd does: leap and stratum kept, root dispersion growing, and
 * `chronyd -Q` against it still gets an answer it uses. The host clock is never touched.
 */
import assert from "node:assert/strict";
import { decodePacket, type NtpPacket } from "../../src/ntp/packet.ts";
import {
  chronydQuery,
  freeUdpPort,
  haveBinary,
  startChronydServer,
  waitFor,
} from "../helpers/peers.ts";
import { startTempusDaemon } from "../helpers/tempus_daemon.ts";

const HAVE_CHRONY = haveBinary("chronyd") && haveBinary("chronyc");

/** One client exchange with address:port; the decoded reply (throws after 1 s). */
async function ntpReply(address: string, port: number): Promise<NtpPacket> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const request = new Uint8Array(48);
  request[0] = 0x23; // v4, client
  crypto.getRandomValues(request.subarray(40));
  const timer = setTimeout(() => socket.close(), 1000);
  try {
    await socket.send(request, { transport: "udp", hostname: address, port });
    const [bytes] = await socket.receive();
    const d = decodePacket(bytes);
    if (!d.ok) throw new Error(`undecodable reply: ${d.error.message}`);
    return d.packet;
  } finally {
    clearTimeout(timer);
    try {
      socket.close();
    } catch {
      // closed by the timer
    }
  }
}

Deno.test({
  name: "holdover: the upstream stops; tempus serves synchronised, chronyd -Q still uses it",
  ignore: !HAVE_CHRONY,
  async fn() {
    const servePort = freeUdpPort();
    const upstream = await startChronydServer();
    const daemon = await startTempusDaemon(upstream.port, [
      "allow 127.0.0.0/8",
      "bindaddress 127.0.0.1",
      `port ${servePort}`,
      // 100 ppm: the growth of the root dispersion shows within seconds, above the 15 us
      // resolution of the packet's field.
      "maxclockerror 100",
    ], { serverOptions: "iburst minpoll -2 maxpoll -2" });
    let upstreamRunning = true;
    try {
      await daemon.waitSelected();
      await new Promise((r) => setTimeout(r, 3000));
      const before = await ntpReply("127.0.0.1", servePort);
      assert.equal(before.leap, 0);
      assert.equal(before.stratum, 2);

      await upstream.stop();
      upstreamRunning = false;
      // The source becomes unreachable (8 polls of 0.25 s) and is unselected.
      let sources = "";
      await waitFor(
        async () => {
          sources = await daemon.chronyc("sources");
          return !/^\^\* /m.test(sources);
        },
        20_000,
        "the source to be unselected",
      ).catch((e) => {
        throw new Error(`${e.message}\n${sources}`);
      });
      assert.match(daemon.output(), /no selectable sources/);
      // Many polls into the outage.
      await new Promise((r) => setTimeout(r, 4000));

      const tracking = await daemon.chronyc("tracking");
      assert.match(tracking, /Reference ID\s+: 7F000001 \(127\.0\.0\.1\)/, tracking);
      assert.match(tracking, /Stratum\s+: 2/, tracking);
      assert.match(tracking, /Leap status\s+: Normal/, tracking);

      const during = await ntpReply("127.0.0.1", servePort);
      assert.equal(during.leap, 0, "served leap status kept (not 3)");
      assert.equal(during.stratum, 2, "served stratum kept");
      // At least 100 ppm over the 4 s since the source was unselected.
      assert.ok(
        during.rootDispersion > before.rootDispersion + 4 * 100e-6,
        `root dispersion grew: ${before.rootDispersion} -> ${during.rootDispersion} s`,
      );

      const q = await chronydQuery("127.0.0.1", servePort);
      console.log(
        `holdover: root dispersion ${before.rootDispersion.toExponential(3)} -> ${
          during.rootDispersion.toExponential(3)
        } s; chronyd -Q offset ${q.offset.toFixed(6)} s`,
      );
      assert.ok(Math.abs(q.offset) < 0.005, `chronyd -Q offset ${q.offset} s`);
    } finally {
      await daemon.stop();
      if (upstreamRunning) await upstream.stop();
    }
  },
});
