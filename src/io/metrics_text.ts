/**
 * The Prometheus text exposition (format 0.0.4) of the daemon's reports: tracking, one set of
 * series per source (sources, sourcestats, ntpdata counters) and the server counters. Names
 * follow Prometheus conventions: a `tempus_` prefix, base units (seconds), `_total` on
 * counters, HELP and TYPE lines before each family. Frequencies stay in ppm (the unit every
 * NTP tool shows), named `_ppm`. Offsets follow tempus's sign: reference minus local.
 *
 * @module
 */
import type {
  NtpDataReport,
  ServerStatsReport,
  SourceReport,
  SourceStatsReport,
  TrackingReport,
} from "../core/reports.ts";
import { refIdToHex } from "../ntp/packet.ts";

/** What one scrape shows. */
export interface MetricsSnapshot {
  /** tempus version (tempus_build_info). */
  version: string;
  /** tracking. */
  tracking: TrackingReport;
  /** sources. */
  sources: SourceReport[];
  /** sourcestats (matched to sources by address). */
  sourceStats: SourceStatsReport[];
  /** ntpdata per source address (counters, delay), when known. */
  ntpData: Map<string, NtpDataReport>;
  /** serverstats, or null when not available. */
  serverStats: ServerStatsReport | null;
  /** The published error bound (half-width, seconds; Infinity: unbounded), or null. */
  maxError?: number | null;
}

type Kind = "gauge" | "counter";
type Labels = Record<string, string>;
/** The fields of `T` that hold a number. */
type NumberField<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T];

/** Escapes a label value (backslash, double quote, newline). */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Builds the exposition family by family. */
class Exposition {
  readonly #lines: string[] = [];

  family(name: string, kind: Kind, help: string, samples: [Labels, number][]): void {
    if (samples.length === 0) return;
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    this.#lines.push(`# TYPE ${name} ${kind}`);
    for (const [labels, value] of samples) {
      this.#lines.push(`${name}${labelText(labels)} ${formatValue(value)}`);
    }
  }

  text(): string {
    return this.#lines.join("\n") + "\n";
  }
}

/** Per-source series from sources: name after `tempus_source_`, help, value. */
const SOURCE_SERIES: [string, string, (r: SourceReport) => number | null][] = [
  ["selected", "1 for the source the clock follows.", (r) => r.state === "selected" ? 1 : 0],
  ["stratum", "Stratum of the source.", (r) => r.stratum],
  ["poll_interval_seconds", "Current polling interval.", (r) => 2 ** r.poll],
  ["reachability", "8-bit reachability register (last 8 polls).", (r) => r.reachability],
  ["last_sample_age_seconds", "Time since the last good sample.", (r) => r.sinceSample],
  [
    "last_offset_seconds",
    "Offset of the last sample, adjusted for slews since (reference minus local).",
    (r) => r.latestOffset,
  ],
  [
    "last_offset_error_seconds",
    "Error bound of the last sample: root delay / 2 + root dispersion.",
    (r) => r.latestError,
  ],
];

/** Per-source series from sourcestats: name after `tempus_source_`, help, field. */
const STATS_SERIES: [string, string, NumberField<SourceStatsReport>][] = [
  ["samples", "Samples in the regression.", "samples"],
  ["std_dev_seconds", "Standard deviation of the samples.", "stdDev"],
  ["residual_frequency_ppm", "Residual frequency of the source, ppm.", "residualFreqPpm"],
  ["skew_ppm", "Frequency error bound of the source, ppm.", "skewPpm"],
  [
    "estimated_offset_seconds",
    "Estimated offset of the source now (reference minus local).",
    "estimatedOffset",
  ],
  ["estimated_offset_error_seconds", "Error of the estimated offset.", "estimatedOffsetError"],
];

/** Per-source series from ntpdata: name after `tempus_source_`, kind, help, field. */
const NTPDATA_SERIES: [string, Kind, string, NumberField<NtpDataReport>][] = [
  ["delay_seconds", "gauge", "Round-trip delay of the last reply.", "peerDelay"],
  ["root_delay_seconds", "gauge", "Root delay the source announced.", "rootDelay"],
  ["root_dispersion_seconds", "gauge", "Root dispersion the source announced.", "rootDispersion"],
  ["requests_sent_total", "counter", "Requests sent to the source.", "totalTx"],
  ["replies_received_total", "counter", "Replies received from the source.", "totalRx"],
  ["replies_valid_total", "counter", "Replies that passed the tests.", "totalValidRx"],
  ["samples_accepted_total", "counter", "Samples accepted from the source.", "totalGoodRx"],
];

/** Server counters: name after `tempus_server_`, help, field. */
const SERVER_COUNTERS: [string, string, NumberField<ServerStatsReport>][] = [
  ["ntp_requests_total", "NTP requests received.", "ntpHits"],
  ["ntp_requests_dropped_total", "NTP requests dropped (rate limit).", "ntpDrops"],
  ["ntp_authenticated_requests_total", "NTP requests with a valid MAC.", "ntpAuthHits"],
  [
    "ntp_interleaved_requests_total",
    "NTP requests answered in interleaved mode.",
    "ntpInterleavedHits",
  ],
  ["nts_ke_connections_total", "NTS-KE connections accepted.", "ntsKeHits"],
  ["nts_ke_dropped_total", "NTS-KE connections dropped.", "ntsKeDrops"],
  ["command_requests_total", "Command requests received.", "cmdHits"],
  ["command_requests_dropped_total", "Command requests dropped.", "cmdDrops"],
  ["client_log_dropped_total", "Client records dropped (table full).", "logDrops"],
];

/** Renders one scrape. */
export function renderMetrics(s: MetricsSnapshot): string {
  const e = new Exposition();
  const t = s.tracking;
  e.family("tempus_build_info", "gauge", "tempus version (always 1).", [[
    { version: s.version },
    1,
  ]]);
  const g = (name: string, help: string, value: number) =>
    e.family(`tempus_${name}`, "gauge", help, [[{}, value]]);
  g("synchronised", "1 when the clock is synchronised to a reference.", t.synchronised ? 1 : 0);
  e.family(
    "tempus_reference_info",
    "gauge",
    "The current reference: reference ID (hex) and address (always 1).",
    [[{ ref_id: refIdToHex(t.refId), address: t.refAddress ?? "" }, 1]],
  );
  const tracking: [string, string, number][] = [
    ["stratum", "Stratum of the local clock (0: unsynchronised).", t.stratum],
    [
      "leap_status",
      "Leap status: 0 normal, 1 insert, 2 delete, 3 unsynchronised.",
      t.leapStatus,
    ],
    [
      "reference_timestamp_seconds",
      "Time of the last reference update (Unix seconds; 0: never).",
      Number(t.refTime) / 1e9,
    ],
    [
      "system_time_offset_seconds",
      "Estimated offset of the system clock from true time, reference minus system " +
      "(> 0: system clock slow); the correction still being slewed.",
      t.systemTimeOffset,
    ],
    [
      "last_offset_seconds",
      "Offset measured at the last update (reference minus local).",
      t.lastOffset,
    ],
    ["rms_offset_seconds", "Long-term RMS of the offsets at updates.", t.rmsOffset],
    ["frequency_ppm", "Frequency correction applied (> 0: clock made faster), ppm.", t.freqPpm],
    ["residual_frequency_ppm", "Residual frequency of the reference, ppm.", t.residualFreqPpm],
    ["skew_ppm", "Estimated error bound of the frequency, ppm.", t.skewPpm],
    ["root_delay_seconds", "Root delay to the primary reference.", t.rootDelay],
    ["root_dispersion_seconds", "Root dispersion, grown to now.", t.rootDispersion],
    [
      "root_distance_seconds",
      "Root distance: root delay / 2 + root dispersion.",
      t.rootDelay / 2 + t.rootDispersion,
    ],
    ["update_interval_seconds", "Interval between the last two updates.", t.lastUpdateInterval],
  ];
  if (s.maxError !== undefined && s.maxError !== null) {
    tracking.push([
      "max_error_seconds",
      "Published maximum error of the system clock (tempus now), +Inf when unbounded.",
      s.maxError,
    ]);
  }
  for (const [name, help, value] of tracking) g(name, help, value);

  const src = s.sources;
  const labelsOf = (r: SourceReport): Labels => ({
    source: r.address,
    name: r.name ?? r.address,
  });
  const stats = new Map(s.sourceStats.map((x) => [x.address, x]));
  const each = (
    name: string,
    kind: Kind,
    help: string,
    value: (r: SourceReport) => number | null,
  ) => {
    const samples: [Labels, number][] = [];
    for (const r of src) {
      const v = value(r);
      if (v !== null) samples.push([labelsOf(r), v]);
    }
    e.family(name, kind, help, samples);
  };
  e.family(
    "tempus_source_info",
    "gauge",
    "One series per source with its mode and selection state (always 1).",
    src.map((r) => [{ ...labelsOf(r), mode: r.mode, state: r.state }, 1]),
  );
  for (const [name, help, value] of SOURCE_SERIES) {
    each(`tempus_source_${name}`, "gauge", help, value);
  }
  for (const [name, help, field] of STATS_SERIES) {
    each(`tempus_source_${name}`, "gauge", help, (r) => stats.get(r.address)?.[field] ?? null);
  }
  for (const [name, kind, help, field] of NTPDATA_SERIES) {
    each(`tempus_source_${name}`, kind, help, (r) => s.ntpData.get(r.address)?.[field] ?? null);
  }

  const v = s.serverStats;
  if (v !== null) {
    for (const [name, help, field] of SERVER_COUNTERS) {
      e.family(`tempus_server_${name}`, "counter", help, [[{}, v[field]]]);
    }
    e.family(
      "tempus_server_rx_timestamps_total",
      "counter",
      "NTP request receive timestamps by source.",
      [
        [{ kind: "daemon" }, v.ntpDaemonRxTimestamps],
        [{ kind: "kernel" }, v.ntpKernelRxTimestamps],
        [{ kind: "hardware" }, v.ntpHwRxTimestamps],
      ],
    );
    e.family(
      "tempus_server_tx_timestamps_total",
      "counter",
      "NTP reply transmit timestamps by source.",
      [
        [{ kind: "daemon" }, v.ntpDaemonTxTimestamps],
        [{ kind: "kernel" }, v.ntpKernelTxTimestamps],
        [{ kind: "hardware" }, v.ntpHwTxTimestamps],
      ],
    );
    g(
      "server_interleaved_timestamps",
      "Transmit timestamps held for interleaved mode.",
      v.ntpTimestamps,
    );
    g("server_interleaved_span_seconds", "Span of the held timestamps.", v.ntpSpanSeconds);
  }
  return e.text();
}
