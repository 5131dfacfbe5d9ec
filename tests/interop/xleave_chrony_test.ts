/**
 * Interop of interleaved mode (RFC 9769, `xleave`) with the real chrony 4.3 (chronyd -x
 * only; the host clock is never touched):
 *
 * - tempus as an `xleave` client of a chronyd server: chronyc ntpdata on tempus shows
 *   "Interleaved : Yes" and the source is selected;
 * - chronyd as an `xleave` client of a tempus daemon serving NTP: chronyc ntpdata on chronyd
 *   shows "Interleaved : Yes", and tempus's serverstats count interleaved replies and
 *   kernel transmit timestamps;
 * - without `xleave`, the same chronyd client stays basic ("Interleaved : No").
 */
import assert from "node:assert/strict";
import {
  type Background,
  freeUdpPort,
  haveBinary,
  ntpAnswers,
  runCommand,
  runTempus,
  startBackground,
  startChronydServer,
  waitFor,
} from "../helpers/peers.ts";
import { startTempusDaemon, type TempusUnderTest } from "../helpers/tempus_daemon.ts";

const ignore = !haveBinary("chronyd") || !haveBinary("chronyc");

/** The "Interleaved" line of chronyc ntpdata output, or null. */
function interleavedField(ntpdata: string): string | null {
  return ntpdata.match(/^Interleaved\s*:\s*(\S+)/m)?.[1] ?? null;
}

Deno.test({
  name: "xleave interop: tempus client (xleave) of chronyd 4.3 gets interleaved replies",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const chronyd = await startChronydServer();
    let tempus: TempusUnderTest | null = null;
    try {
      tempus = await startTempusDaemon(chronyd.port, [], {
        serverOptions: "iburst minpoll -2 maxpoll -2 xleave",
      });
      const t = tempus;
      await t.waitSelected();
      let last = "";
      await waitFor(
        async () => {
          last = await t.chronyc("ntpdata", "127.0.0.1");
          return interleavedField(last) === "Yes";
        },
        15_000,
        "an interleaved reply",
      ).catch((e) => {
        throw new Error(`${e.message}\n${last}\n${t.output()}`);
      });
      assert.match(last, /^Mode\s*:\s*Server/m);
      // Interleaved samples keep feeding the statistics: still selected, good replies grow.
      const good1 = Number(last.match(/^Total good RX\s*:\s*(\d+)/m)?.[1]);
      await new Promise((r) => setTimeout(r, 2500));
      const later = await t.chronyc("ntpdata", "127.0.0.1");
      assert.equal(interleavedField(later), "Yes");
      const good2 = Number(later.match(/^Total good RX\s*:\s*(\d+)/m)?.[1]);
      assert.ok(good2 > good1, `good samples grew (${good1} -> ${good2})\n${later}`);
      assert.match(await t.chronyc("sources"), /^\^\* 127\.0\.0\.1/m);
    } finally {
      await tempus?.stop();
      await chronyd.stop();
    }
  },
});

/** A chronyd -x client of 127.0.0.1:`port` with its own command port. */
async function startChronydClient(
  port: number,
  serverOptions: string,
): Promise<Background & { chronyc(...args: string[]): Promise<string> }> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-xleave-chronyd-" });
  await Deno.chmod(dir, 0o750);
  // ntpdata is answered only on the Unix socket.
  const socket = `${dir}/chronyd.sock`;
  const conf = [
    `server 127.0.0.1 port ${port} ${serverOptions}`,
    "port 0",
    `bindcmdaddress ${socket}`,
    "cmdport 0",
    `pidfile ${dir}/chronyd.pid`,
    `driftfile ${dir}/drift`,
  ].join("\n");
  await Deno.writeTextFile(`${dir}/chronyd.conf`, conf + "\n");
  const bg = startBackground("chronyd", ["-x", "-d", "-u", "root", "-f", `${dir}/chronyd.conf`]);
  return {
    ...bg,
    async chronyc(...args: string[]) {
      const out = await runCommand("chronyc", ["-n", "-h", socket, ...args]);
      return out.stdout + out.stderr;
    },
    async stop(grace?: number) {
      await bg.stop(grace);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

for (const xleave of [true, false]) {
  Deno.test({
    name: `xleave interop: chronyd 4.3 client${xleave ? " (xleave)" : " (basic)"} of a tempus ` +
      `server sees ${xleave ? "interleaved" : "basic"} replies`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const upstream = await startChronydServer();
      const ntpPort = freeUdpPort();
      let tempus: TempusUnderTest | null = null;
      let client: Awaited<ReturnType<typeof startChronydClient>> | null = null;
      try {
        tempus = await startTempusDaemon(upstream.port, [
          "allow 127.0.0.0/8",
          `port ${ntpPort}`,
          "bindaddress 127.0.0.1",
        ]);
        const t = tempus;
        await t.waitSelected();
        await waitFor(() => ntpAnswers("127.0.0.1", ntpPort), 5000, "tempus to serve");
        client = await startChronydClient(
          ntpPort,
          `iburst minpoll -2 maxpoll -2${xleave ? " xleave" : ""}`,
        );
        const c = client;
        let last = "";
        if (xleave) {
          await waitFor(
            async () => {
              last = await c.chronyc("ntpdata", "127.0.0.1");
              return interleavedField(last) === "Yes";
            },
            15_000,
            "chronyd to see an interleaved reply",
          ).catch((e) => {
            throw new Error(`${e.message}\n${last}\n${c.output()}\n${t.output()}`);
          });
          // tempus's own client prints the kernel TX line (chronyc 4.3 does not know it).
          const out = await runTempus(["serverstats", "-h", "127.0.0.1", "-p", `${t.cmdPort}`]);
          const stats = out.stdout + out.stderr;
          const hits = Number(stats.match(/^Interleaved NTP packets\s*:\s*(\d+)/m)?.[1]);
          const kernelTx = Number(stats.match(/^NTP kernel TX timestamps\s*:\s*(\d+)/m)?.[1]);
          assert.ok(hits >= 1, `interleaved replies counted\n${stats}`);
          assert.ok(kernelTx >= 1, `kernel TX timestamps taken\n${stats}`);
        } else {
          await waitFor(
            async () => {
              last = await c.chronyc("ntpdata", "127.0.0.1");
              return /^Total valid RX\s*:\s*[3-9]/m.test(last);
            },
            15_000,
            "chronyd to get valid replies",
          );
          assert.equal(interleavedField(last), "No", last);
        }
      } finally {
        await client?.stop();
        await tempus?.stop();
        await upstream.stop();
      }
    },
  });
}
