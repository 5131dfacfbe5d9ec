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

/** Renders one scrape. */
export function renderMetrics(s: MetricsSnapshot): string {
  const e = new Exposition();
  const t = s.tracking;
  const g = (name: string, help: string, value: number) =>
    e.family(name, "gauge", help, [[{}, value]]);
  e.family("tempus_build_info", "gauge", "tempus version (always 1).", [[
    { version: s.version },
    1,
  ]]);
  g(
    "tempus_synchronised",
    "1 when the clock is synchronised to a reference.",
    t.synchronised ? 1 : 0,
  );
  e.family(
    "tempus_reference_info",
    "gauge",
    "The current reference: reference ID (hex) and address (always 1).",
    [[{ ref_id: refIdToHex(t.refId), address: t.refAddress ?? "" }, 1]],
  );
  g("tempus_stratum", "Stratum of the local clock (0: unsynchronised).", t.stratum);
  g(
    "tempus_leap_status",
    "Leap status: 0 normal, 1 insert, 2 delete, 3 unsynchronised.",
    t.leapStatus,
  );
  g(
    "tempus_reference_timestamp_seconds",
    "Time of the last reference update (Unix seconds; 0: never).",
    Number(t.refTime) / 1e9,
  );
  g(
    "tempus_system_time_offset_seconds",
    "Estimated offset of the system clock from true time, reference minus system " +
      "(> 0: system clock slow); the correction still being slewed.",
    t.systemTimeOffset,
  );
  g(
    "tempus_last_offset_seconds",
    "Offset measured at the last update (reference minus local).",
    t.lastOffset,
  );
  g("tempus_rms_offset_seconds", "Long-term RMS of the offsets at updates.", t.rmsOffset);
  g(
    "tempus_frequency_ppm",
    "Frequency correction applied (> 0: clock made faster), ppm.",
    t.freqPpm,
  );
  g(
    "tempus_residual_frequency_ppm",
    "Residual frequency of the reference, ppm.",
    t.residualFreqPpm,
  );
  g("tempus_skew_ppm", "Estimated error bound of the frequency, ppm.", t.skewPpm);
  g("tempus_root_delay_seconds", "Root delay to the primary reference.", t.rootDelay);
  g("tempus_root_dispersion_seconds", "Root dispersion, grown to now.", t.rootDispersion);
  g(
    "tempus_root_distance_seconds",
    "Root distance: root delay / 2 + root dispersion.",
    t.rootDelay / 2 + t.rootDispersion,
  );
  g(
    "tempus_update_interval_seconds",
    "Interval between the last two updates.",
    t.lastUpdateInterval,
  );
  if (s.maxError !== undefined && s.maxError !== null) {
    g(
      "tempus_max_error_seconds",
      "Published maximum error of the system clock (tempus now), +Inf when unbounded.",
      s.maxError,
    );
  }

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
  each(
    "tempus_source_selected",
    "gauge",
    "1 for the source the clock follows.",
    (r) => r.state === "selected" ? 1 : 0,
  );
  each("tempus_source_stratum", "gauge", "Stratum of the source.", (r) => r.stratum);
  each(
    "tempus_source_poll_interval_seconds",
    "gauge",
    "Current polling interval.",
    (r) => 2 ** r.poll,
  );
  each(
    "tempus_source_reachability",
    "gauge",
    "8-bit reachability register (last 8 polls).",
    (r) => r.reachability,
  );
  each(
    "tempus_source_last_sample_age_seconds",
    "gauge",
    "Time since the last good sample.",
    (r) => r.sinceSample,
  );
  each(
    "tempus_source_last_offset_seconds",
    "gauge",
    "Offset of the last sample, adjusted for slews since (reference minus local).",
    (r) => r.latestOffset,
  );
  each(
    "tempus_source_last_offset_error_seconds",
    "gauge",
    "Error bound of the last sample: root delay / 2 + root dispersion.",
    (r) => r.latestError,
  );
  each(
    "tempus_source_samples",
    "gauge",
    "Samples in the regression.",
    (r) => stats.get(r.address)?.samples ?? null,
  );
  each(
    "tempus_source_std_dev_seconds",
    "gauge",
    "Standard deviation of the samples.",
    (r) => stats.get(r.address)?.stdDev ?? null,
  );
  each(
    "tempus_source_residual_frequency_ppm",
    "gauge",
    "Residual frequency of the source, ppm.",
    (r) => stats.get(r.address)?.residualFreqPpm ?? null,
  );
  each(
    "tempus_source_skew_ppm",
    "gauge",
    "Frequency error bound of the source, ppm.",
    (r) => stats.get(r.address)?.skewPpm ?? null,
  );
  each(
    "tempus_source_estimated_offset_seconds",
    "gauge",
    "Estimated offset of the source now (reference minus local).",
    (r) => stats.get(r.address)?.estimatedOffset ?? null,
  );
  each(
    "tempus_source_estimated_offset_error_seconds",
    "gauge",
    "Error of the estimated offset.",
    (r) => stats.get(r.address)?.estimatedOffsetError ?? null,
  );
  const nd = (r: SourceReport) => s.ntpData.get(r.address);
  each(
    "tempus_source_delay_seconds",
    "gauge",
    "Round-trip delay of the last reply.",
    (r) => nd(r)?.peerDelay ?? null,
  );
  each(
    "tempus_source_root_delay_seconds",
    "gauge",
    "Root delay the source announced.",
    (r) => nd(r)?.rootDelay ?? null,
  );
  each(
    "tempus_source_root_dispersion_seconds",
    "gauge",
    "Root dispersion the source announced.",
    (r) => nd(r)?.rootDispersion ?? null,
  );
  each(
    "tempus_source_requests_sent_total",
    "counter",
    "Requests sent to the source.",
    (r) => nd(r)?.totalTx ?? null,
  );
  each(
    "tempus_source_replies_received_total",
    "counter",
    "Replies received from the source.",
    (r) => nd(r)?.totalRx ?? null,
  );
  each(
    "tempus_source_replies_valid_total",
    "counter",
    "Replies that passed the tests.",
    (r) => nd(r)?.totalValidRx ?? null,
  );
  each(
    "tempus_source_samples_accepted_total",
    "counter",
    "Samples accepted from the source.",
    (r) => nd(r)?.totalGoodRx ?? null,
  );

  const v = s.serverStats;
  if (v !== null) {
    const c = (name: string, help: string, value: number) =>
      e.family(name, "counter", help, [[{}, value]]);
    c("tempus_server_ntp_requests_total", "NTP requests received.", v.ntpHits);
    c("tempus_server_ntp_requests_dropped_total", "NTP requests dropped (rate limit).", v.ntpDrops);
    c(
      "tempus_server_ntp_authenticated_requests_total",
      "NTP requests with a valid MAC.",
      v.ntpAuthHits,
    );
    c(
      "tempus_server_ntp_interleaved_requests_total",
      "NTP requests answered in interleaved mode.",
      v.ntpInterleavedHits,
    );
    c("tempus_server_nts_ke_connections_total", "NTS-KE connections accepted.", v.ntsKeHits);
    c("tempus_server_nts_ke_dropped_total", "NTS-KE connections dropped.", v.ntsKeDrops);
    c("tempus_server_command_requests_total", "Command requests received.", v.cmdHits);
    c("tempus_server_command_requests_dropped_total", "Command requests dropped.", v.cmdDrops);
    c("tempus_server_client_log_dropped_total", "Client records dropped (table full).", v.logDrops);
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
    e.family(
      "tempus_server_interleaved_timestamps",
      "gauge",
      "Transmit timestamps held for interleaved mode.",
      [
        [{}, v.ntpTimestamps],
      ],
    );
    e.family("tempus_server_interleaved_span_seconds", "gauge", "Span of the held timestamps.", [
      [{}, v.ntpSpanSeconds],
    ]);
  }
  return e.text();
}
