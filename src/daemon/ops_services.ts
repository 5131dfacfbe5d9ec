/**
 * The daemon's operator services: the Prometheus endpoint (metricsport, with the recent
 * history for `tempus plot --url` at /history) and the error-bound page for applications
 * (errorboundfile). Both read the daemon's reports through
 * `EngineControl` (the same reports chronyc gets) and never change anything.
 *
 * @module
 */
import type { EngineControl } from "../core/control.ts";
import {
  dissentingSamples,
  ERROR_BOUND_DRIFT_PPM,
  errorBoundSnapshot,
  selectedSample,
  StepWatch,
} from "../core/error_bound.ts";
import type { NtpDataReport } from "../core/reports.ts";
import { ErrorBoundWriter } from "../io/error_bound_file.ts";
import { SampleRecorder } from "../io/sample_record.ts";
import { attachSampleRecorder } from "./sample_recording.ts";
import { type MetricsServerHandle, startMetricsServer } from "../io/metrics_server.ts";
import { type MetricsSnapshot, renderMetrics } from "../io/metrics_text.ts";
import { History } from "./history.ts";
import { VERSION } from "../version.ts";
import { NullClockDriver } from "../clock/null.ts";
import { joinHostPort } from "../io/dns.ts";
import type { DaemonParts } from "./build.ts";

/** CLOCK_MONOTONIC: slewed like CLOCK_REALTIME, never stepped. */
const CLOCK_MONOTONIC = 1;
const CLOCK_REALTIME = 0;

/** Reads the two clocks the error bound is expressed in. */
export type ClockReader = () => { realtime: bigint; monotonic: bigint };

async function libcClocks(): Promise<ClockReader> {
  const { clockGettime } = await import("../../ffi/libc.ts");
  return () => ({
    realtime: clockGettime(CLOCK_REALTIME),
    monotonic: clockGettime(CLOCK_MONOTONIC),
  });
}

/** The URL of the metrics endpoint on `hostname:port` (an IPv6 address in brackets). */
export function metricsUrl(hostname: string, port: number): string {
  return `http://${joinHostPort(hostname, port)}/metrics`;
}

/** The reports of one scrape, from the daemon's control surface. */
export function metricsSnapshot(
  control: EngineControl,
  maxError: number | null = null,
): MetricsSnapshot {
  const sources = control.sources();
  const ntpData = new Map<string, NtpDataReport>();
  for (const s of sources) {
    const d = control.ntpData(s.address);
    if (d !== null) ntpData.set(s.address, d);
  }
  return {
    version: VERSION,
    tracking: control.tracking(),
    sources,
    sourceStats: control.sourceStats(),
    ntpData,
    serverStats: control.serverStats(),
    maxError,
  };
}

/** What the daemon needs to close. */
export interface OpsServices {
  /** The metrics port, or null when off. */
  metricsPort: number | null;
  /** Stops both services (the page is marked unsynchronised). */
  close(): Promise<void>;
}

/**
 * Starts what the configuration asks for (nothing by default) over the daemon's engine and
 * control; `clocks` reads the clocks (default: clock_gettime through ffi).
 */
export async function startOpsServices(
  parts: Pick<DaemonParts, "config" | "engine" | "log" | "driver">,
  control: EngineControl,
  clocks?: ClockReader,
): Promise<OpsServices> {
  const { config, engine, log } = parts;
  const clock = engine.clock;
  let writer: ErrorBoundWriter | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let historyTimer: ReturnType<typeof setInterval> | null = null;
  let lastMaxError: number | null = null;
  if (config.errorBoundFile) {
    const read = clocks ?? await libcClocks();
    // With -x the engine's steps are virtual and do not move CLOCK_REALTIME.
    const stepsMoveRealtime = !(parts.driver instanceof NullClockDriver);
    try {
      writer = ErrorBoundWriter.open(config.errorBoundFile);
    } catch (error) {
      throw new Error(`Could not open errorboundfile ${config.errorBoundFile}: ${String(error)}`);
    }
    const w = writer;
    const watch = new StepWatch();
    const params = {
      maxClockErrorPpm: config.maxClockError,
      precision: clock.precision,
      maxSlewRatePpm: config.maxSlewRate,
      driftPpm: ERROR_BOUND_DRIFT_PPM,
    };
    let failed = false;
    const publish = () => {
      try {
        const tracking = control.tracking();
        const sources = control.sources();
        const sample = selectedSample(sources);
        const dissent = dissentingSamples(sources, control.selectData());
        const { realtime, monotonic } = read();
        const extra = watch.observe(realtime, monotonic, tracking.refTime);
        const snapshot = errorBoundSnapshot(
          tracking,
          sample,
          realtime,
          monotonic,
          params,
          extra,
          dissent,
        );
        w.publish(snapshot);
        lastMaxError = snapshot.maxError;
        failed = false;
      } catch (error) {
        if (!failed) log.log("warning", `Could not publish the error bound: ${String(error)}`);
        failed = true;
      }
    };
    clock.addObserver((change) => {
      if (change.kind === "step" && stepsMoveRealtime) watch.ownStep(change.doffset);
      queueMicrotask(publish); // after the update that changed the clock is complete
    });
    publish();
    timer = setInterval(publish, 1000);
  }
  let recorder: SampleRecorder | null = null;
  if (config.recordMeasurements) {
    try {
      recorder = SampleRecorder.open(config.recordMeasurements, clock.precision);
    } catch (error) {
      throw new Error(
        `Could not open recordmeasurements ${config.recordMeasurements}: ${String(error)}`,
      );
    }
    attachSampleRecorder(engine, recorder, (m) => log.log("warning", m));
  }
  let server: MetricsServerHandle | null = null;
  const port = config.metricsPort ?? 0;
  if (port > 0) {
    const hostname = config.bindMetricsAddress ?? "127.0.0.1";
    const history = new History();
    historyTimer = setInterval(() => history.sample(control, Date.now() / 1000), 1000);
    try {
      server = await startMetricsServer(
        { hostname, port },
        () => renderMetrics(metricsSnapshot(control, lastMaxError)),
        { "/history": () => history.data() },
      );
    } catch (error) {
      writer?.close();
      recorder?.close();
      if (timer !== null) clearInterval(timer);
      if (historyTimer !== null) clearInterval(historyTimer);
      throw new Error(
        `Could not open metrics port ${joinHostPort(hostname, port)}: ${String(error)}`,
      );
    }
    log.log("info", `Metrics on ${metricsUrl(hostname, server.port)}`);
  }
  return {
    metricsPort: server?.port ?? null,
    close: async () => {
      if (timer !== null) clearInterval(timer);
      if (historyTimer !== null) clearInterval(historyTimer);
      writer?.close();
      recorder?.close();
      await server?.close();
    },
  };
}
