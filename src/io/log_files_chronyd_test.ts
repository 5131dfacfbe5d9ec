import assert from "node:assert/strict";
import { findChronyd } from "../../tests/helpers/peers.ts";
import type { LeapStatus } from "../core/reports.ts";
import type { Instant } from "../base/time.ts";
import {
  bannerBlock,
  formatMeasurementLine,
  formatSelectionLine,
  formatStatisticsLine,
  formatTrackingLine,
  MEASUREMENTS_BANNER,
  SELECTION_BANNER,
  STATISTICS_BANNER,
  TRACKING_BANNER,
} from "./log_format.ts";

const CHRONYD = findChronyd();
const LEAPS: Record<string, LeapStatus> = { N: 0, "+": 1, "-": 2, "?": 3 };

function instant(date: string, time: string): Instant {
  return BigInt(Date.parse(`${date}T${time}Z`)) * 1_000_000n;
}

/** Re-formats one chronyd tracking.log line through tempus's record (tempus signs). */
function retrack(line: string): string {
  const f = line.trim().split(/\s+/);
  return formatTrackingLine({
    time: instant(f[0], f[1]),
    reference: f[2],
    stratum: Number(f[3]),
    freqPpm: -Number(f[4]),
    skewPpm: Number(f[5]),
    offset: -Number(f[6]),
    leap: LEAPS[f[7]],
    combinedSources: Number(f[8]),
    offsetSd: Number(f[9]),
    remainingCorrection: Number(f[10]),
    rootDelay: Number(f[11]),
    rootDispersion: Number(f[12]),
    maxError: Number(f[13]),
  });
}

function bits(text: string, first: number): number {
  let v = 0;
  for (let i = 0; i < text.length; i++) if (text[i] === "1") v |= 1 << (first + i);
  return v;
}

function remeasure(line: string): string {
  const f = line.trim().split(/\s+/);
  return formatMeasurementLine({
    time: instant(f[0], f[1]),
    address: f[2],
    leap: LEAPS[f[3]],
    stratum: Number(f[4]),
    tests: bits(f[5], 0) | bits(f[6], 3) | bits(f[7], 6),
    localPoll: Number(f[8]),
    remotePoll: Number(f[9]),
    score: Number(f[10]),
    offset: Number(f[11]),
    peerDelay: Number(f[12]),
    peerDispersion: Number(f[13]),
    rootDelay: Number(f[14]),
    rootDispersion: Number(f[15]),
    refId: parseInt(f[16], 16),
    mode: Number(f[17][0]),
    interleaved: f[17][1] === "I",
    txSource: f[18] as "D" | "K" | "H",
    rxSource: f[19] as "D" | "K" | "H",
    valid: true,
  });
}

function restat(line: string): string {
  const f = line.trim().split(/\s+/);
  return formatStatisticsLine({
    time: instant(f[0], f[1]),
    address: f[2],
    stdDev: Number(f[3]),
    estimatedOffset: -Number(f[4]),
    offsetSd: Number(f[5]),
    residualFreqPpm: -Number(f[6]) * 1e6,
    skewPpm: Number(f[7]) * 1e6,
    stress: Number(f[8]),
    samples: Number(f[9]),
    bestStart: Number(f[10]),
    runs: Number(f[11]),
    asymmetry: Number(f[12]),
  });
}

function reselect(line: string): string {
  const f = line.trim().split(/\s+/);
  return formatSelectionLine({
    time: instant(f[0], f[1]),
    address: f[2],
    state: f[3],
    noselect: f[4][1] === "N",
    prefer: f[4][2] === "P",
    trust: f[4][3] === "T",
    require: f[4][4] === "R",
    reachability: parseInt(f[5], 8),
    score: Number(f[6]),
    lastSampleAgo: Number(f[7]),
    low: -Number(f[9]),
    high: -Number(f[8]),
  });
}

function runChronyd(conf: string): Deno.ChildProcess {
  return new Deno.Command(CHRONYD as string, {
    // -x: never touch the clock; -u root: no privilege drop, so it can write the temp dir.
    args: ["-x", "-d", "-u", "root", "-f", conf],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

Deno.test({
  name: "log lines from a real chronyd re-format byte for byte through tempus's records" +
    (CHRONYD === null ? " (skipped: chronyd not installed)" : ""),
  ignore: CHRONYD === null || Deno.uid() !== 0,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-chronyd-logs-" });
    const port = 20000 + Math.floor(Math.random() * 20000);
    const children: Deno.ChildProcess[] = [];
    try {
      await Deno.writeTextFile(
        `${dir}/server.conf`,
        `local stratum 8\nallow 127.0.0.0/8\nport ${port}\nbindaddress 127.0.0.91\n` +
          `cmdport 0\nbindcmdaddress /\npidfile ${dir}/s.pid\n`,
      );
      await Deno.writeTextFile(
        `${dir}/client.conf`,
        `server 127.0.0.91 port ${port} minpoll -4 maxpoll -4 iburst\nport 0\ncmdport 0\n` +
          `bindcmdaddress /\npidfile ${dir}/c.pid\nlogdir ${dir}/logs\nlogbanner 4\n` +
          `log measurements statistics tracking selection\n`,
      );
      children.push(runChronyd(`${dir}/server.conf`));
      children.push(runChronyd(`${dir}/client.conf`));
      await new Promise((r) => setTimeout(r, 4000));
    } finally {
      for (const c of children) {
        try {
          c.kill("SIGTERM");
        } catch {
          // already exited
        }
        await c.status;
      }
    }
    try {
      const checks: [string, string, (l: string) => string][] = [
        ["tracking", TRACKING_BANNER, retrack],
        ["measurements", MEASUREMENTS_BANNER, remeasure],
        ["statistics", STATISTICS_BANNER, restat],
        ["selection", SELECTION_BANNER, reselect],
      ];
      for (const [name, banner, reformat] of checks) {
        const text = Deno.readTextFileSync(`${dir}/logs/${name}.log`);
        assert.ok(text.startsWith(bannerBlock(banner)), `${name}: banner differs`);
        const data = text.split("\n").filter((l) => l !== "" && !l.startsWith("=") && l !== banner);
        assert.ok(data.length >= 4, `${name}: only ${data.length} lines`);
        // logbanner 4: a banner block before every 4 data lines, as tempus writes them.
        const blocks = text.split(bannerBlock(banner)).filter((b) => b !== "");
        assert.equal(blocks.length, Math.ceil(data.length / 4), `${name}: banner count`);
        for (const line of data) assert.equal(reformat(line), line, `${name} line`);
        if (Deno.env.get("TEMPUS_TEST_VERBOSE")) console.log(`${name}: ${data.length} lines`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
