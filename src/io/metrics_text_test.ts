import assert from "node:assert/strict";
import type { SourceReport, TrackingReport } from "../core/reports.ts";
import { handleMetricsRequest, METRICS_CONTENT_TYPE } from "./metrics_server.ts";
import { escapeLabel, type MetricsSnapshot, renderMetrics } from "./metrics_text.ts";

const tracking: TrackingReport = {
  refId: 0x7f000001,
  refAddress: "127.0.0.1",
  stratum: 2,
  leapStatus: 0,
  refTime: 1_780_000_000_500_000_000n,
  systemTimeOffset: -1.5e-6,
  lastOffset: 2e-6,
  rmsOffset: 3e-6,
  freqPpm: -12.5,
  residualFreqPpm: 0.001,
  skewPpm: 0.02,
  rootDelay: 1e-4,
  rootDispersion: 2e-5,
  lastUpdateInterval: 2,
  synchronised: true,
};
const source: SourceReport = {
  id: 1,
  address: "192.0.2.1",
  name: 'we"ird\\name\n',
  poll: 6,
  stratum: 1,
  state: "selected",
  mode: "client",
  reachability: 255,
  sinceSample: null,
  origLatestOffset: 1e-6,
  latestOffset: 1e-6,
  latestError: 5e-5,
};
const snap: MetricsSnapshot = {
  version: "9.9.9",
  tracking,
  sources: [source],
  sourceStats: [],
  ntpData: new Map(),
  serverStats: null,
  maxError: Infinity,
};

Deno.test("every sample line follows HELP and TYPE of its family, once each", () => {
  const text = renderMetrics(snap);
  const seen = new Set<string>();
  let current = "";
  for (const line of text.trimEnd().split("\n")) {
    const help = line.match(/^# HELP (\S+) /);
    if (help) {
      assert.ok(!seen.has(help[1]), `family ${help[1]} twice`);
      seen.add(help[1]);
      current = help[1];
      continue;
    }
    const type = line.match(/^# TYPE (\S+) (gauge|counter)$/);
    if (type) {
      assert.equal(type[1], current);
      if (type[2] === "counter") assert.match(current, /_total$/);
      continue;
    }
    assert.ok(line.startsWith(current), `${line} outside ${current}`);
  }
  assert.match(text, /^tempus_system_time_offset_seconds -0\.0000015$/m);
  assert.match(text, /^tempus_reference_timestamp_seconds 1780000000\.5$/m);
  assert.match(text, /^tempus_max_error_seconds \+Inf$/m);
  assert.match(text, /^tempus_reference_info\{ref_id="7F000001",address="127\.0\.0\.1"\} 1$/m);
  // Unknown values are left out, not shown as zero.
  assert.doesNotMatch(text, /tempus_source_last_sample_age_seconds\{/);
  assert.doesNotMatch(text, /tempus_server_/);
});

Deno.test("label values are escaped", () => {
  assert.equal(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.match(renderMetrics(snap), /name="we\\"ird\\\\name\\n"/);
});

Deno.test("the HTTP handler: /metrics, JSON routes, HEAD, 404, 405, 500 on a failing render", async () => {
  const get = (path: string, method = "GET") =>
    handleMetricsRequest(new Request(`http://x${path}`, { method }), () => "m 1\n");
  const ok = get("/metrics");
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("content-type"), METRICS_CONTENT_TYPE);
  assert.equal(await ok.text(), "m 1\n");
  assert.equal(await get("/metrics", "HEAD").text(), "");
  assert.equal(get("/x").status, 404);
  assert.equal(get("/metrics", "POST").status, 405);
  const bad = handleMetricsRequest(new Request("http://x/metrics"), () => {
    throw new Error("boom");
  });
  assert.equal(bad.status, 500);
  const json = handleMetricsRequest(new Request("http://x/history"), () => "", {
    "/history": () => ({ tracking: [1] }),
  });
  assert.equal(json.headers.get("content-type"), "application/json");
  assert.deepEqual(await json.json(), { tracking: [1] });
  assert.equal(get("/history").status, 404, "no route unless given");
  assert.match(await bad.text(), /boom/);
});
