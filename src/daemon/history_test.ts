import assert from "node:assert/strict";
import type { EngineControl } from "../core/control.ts";
import type { NtpDataReport, SourceReport, TrackingReport } from "../core/reports.ts";
import { History } from "./history.ts";

function fakeControl(state: { refTime: bigint; rx: number; good: number }): EngineControl {
  const tracking = {
    refId: 1,
    refAddress: "192.0.2.1",
    stratum: 2,
    leapStatus: 1,
    refTime: state.refTime,
    systemTimeOffset: 0,
    lastOffset: 2e-6,
    rmsOffset: 0,
    freqPpm: 5,
    residualFreqPpm: 0,
    skewPpm: 0.1,
    rootDelay: 1e-3,
    rootDispersion: 1e-4,
    lastUpdateInterval: 64,
    synchronised: true,
  } as TrackingReport;
  const source = {
    id: 1,
    address: "192.0.2.1",
    name: null,
    poll: 6,
    stratum: 1,
    state: "selected",
    mode: "client",
    reachability: 255,
    sinceSample: 0.5,
    origLatestOffset: 0,
    latestOffset: 0,
    latestError: 0,
  } as SourceReport;
  const data = {
    offset: 3e-6,
    peerDelay: 2e-3,
    totalValidRx: state.rx,
    totalGoodRx: state.good,
  } as NtpDataReport;
  return {
    tracking: () => tracking,
    sources: () => [source],
    ntpData: () => data,
  } as unknown as EngineControl;
}

Deno.test("history takes each new update and sample once, bounded", () => {
  const h = new History(3);
  const s = { refTime: 0n, rx: 0, good: 0 };
  h.sample(fakeControl(s), 100);
  assert.deepEqual(h.data(), { tracking: [], measurements: [] });
  for (let i = 1; i <= 5; i++) {
    s.refTime = BigInt(100 + i) * 1_000_000_000n;
    s.rx = i;
    s.good = i === 4 ? 3 : i; // the 4th sample was rejected
    h.sample(fakeControl(s), 100 + i);
    h.sample(fakeControl(s), 100 + i + 0.5); // nothing new
  }
  const d = h.data();
  assert.equal(d.tracking.length, 3, "bounded to 3");
  assert.deepEqual(d.tracking.map((e) => e.t), [103, 104, 105]);
  assert.equal(d.tracking[0].freqPpm, -5, "chrony's sense, as tracking.log");
  assert.equal(d.tracking[0].leap, "+");
  assert.equal(d.measurements.length, 3);
  assert.deepEqual(d.measurements.map((m) => [m.t, m.valid]), [[102.5, true], [103.5, false], [
    104.5,
    true,
  ]]);
});
