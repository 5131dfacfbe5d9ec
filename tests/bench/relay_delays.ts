/**
 * Per-hop delays through the impairing relays of `realtime_compare.ts`, from a packet
 * capture on `lo` (docs/realtime.md, "What changed"):
 *
 *   dumpcap -i lo -f udp -w /tmp/cap.pcapng -a duration:80 -q &
 *   ./deno task bench:realtime --seconds 60 --scenario clean
 *   ./deno run -A tests/bench/relay_delays.ts /tmp/cap.pcapng
 *
 * Every request is seen twice (client → relay, relay → server) with the same transmit
 * timestamp, and its reply twice (server → relay, relay → client) with that timestamp as
 * origin; the table gives, per relay (its listening port), the median and minimum time each
 * direction spent in the relay and the mean path asymmetry (up − down)/2 a client measures.
 *
 * @module
 */

/** One NTP datagram of the capture. */
interface Seen {
  t: number;
  srcPort: number;
  dstPort: number;
}

/** Median of a non-empty list. */
function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 === 1 ? s[k] : (s[k - 1] + s[k]) / 2;
}

/** Reads the capture through tshark and prints the per-relay table. */
async function main(): Promise<void> {
  const file = Deno.args[0];
  if (!file) {
    console.error("usage: relay_delays.ts CAPTURE.pcapng");
    Deno.exit(2);
  }
  const out = await new Deno.Command("tshark", {
    args: [
      "-r",
      file,
      "-T",
      "fields",
      "-e",
      "frame.time_epoch",
      "-e",
      "udp.srcport",
      "-e",
      "udp.dstport",
      "-e",
      "udp.payload",
      "-E",
      "separator=|",
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const requests = new Map<string, Seen[]>();
  const replies = new Map<string, Seen[]>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const [time, src, dst, payload] = line.split("|");
    if (payload === undefined || payload.length !== 96) continue; // 48-octet NTP only
    const mode = parseInt(payload.slice(0, 2), 16) & 7;
    const seen = { t: Number(time), srcPort: Number(src), dstPort: Number(dst) };
    // Transmit timestamp (octets 40-47) of a request; origin (24-31) of a reply.
    const [map, key] = mode === 3
      ? [requests, payload.slice(80, 96)]
      : mode === 4
      ? [replies, payload.slice(48, 64)]
      : [null, ""];
    if (map === null) continue;
    map.set(key, [...(map.get(key) ?? []), seen]);
  }
  const perRelay = new Map<number, { up: number[]; down: number[] }>();
  for (const [key, req] of requests) {
    const rep = replies.get(key);
    if (req.length !== 2 || rep?.length !== 2) continue;
    const relay = req[0].dstPort;
    const row = perRelay.get(relay) ?? { up: [], down: [] };
    row.up.push((req[1].t - req[0].t) * 1e6);
    row.down.push((rep[1].t - rep[0].t) * 1e6);
    perRelay.set(relay, row);
  }
  console.log(
    "| relay port | exchanges | up median µs | up min µs | down median µs | down min µs | (up-down)/2 mean µs |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|");
  for (const [relay, { up, down }] of perRelay) {
    const asym = up.reduce((s, u, i) => s + (u - down[i]) / 2, 0) / up.length;
    console.log(
      `| ${relay} | ${up.length} | ${median(up).toFixed(0)} | ${Math.min(...up).toFixed(0)} | ` +
        `${median(down).toFixed(0)} | ${Math.min(...down).toFixed(0)} | ${asym.toFixed(0)} |`,
    );
  }
}

if (import.meta.main) await main();
