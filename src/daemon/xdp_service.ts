/**
 * `xdpserver`: plain IPv4 client requests answered in the kernel (src/io/xdp/). This module
 * keeps the kernel's copy of what the daemon would answer: the served clock as a line in
 * CLOCK_MONOTONIC (rewritten after every rate change of the local clock, every clock change
 * and every `XDP_REFRESH_SECONDS`), the reference, the access table (rewritten after
 * `allow`/`deny`) and `ratelimit`. It merges the kernel's counters into `serverstats` and
 * `clients`. Anything the program does not answer reaches the daemon's sockets as before, where
 * the daemon's own client log (and its rate limit) applies: a client's requests answered in the
 * kernel and those the daemon answers are limited apart.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { ClientAccessReport, ServerStatsReport } from "../core/reports.ts";
import type { ReferenceState } from "../core/types.ts";
import type { AccessTable } from "../core/access.ts";
import { INTERVAL_UNKNOWN, NEVER_AGO } from "../core/client_log.ts";
import type { Instant } from "../base/time.ts";
import type { LogPort, TimerHandle, TimerPort } from "../base/ports.ts";
import { errorMessage } from "../base/errors.ts";
import { parseIpAddress } from "../config/subnet.ts";
import { parseIpv4 } from "../base/ip.ts";
import { clockGettime } from "../../ffi/libc.ts";
import { type XdpClient, type XdpCounters, XdpResponder } from "../io/xdp/xdp_responder.ts";
import {
  type ServedLine,
  XDP_REFRESH_SECONDS,
  type XdpResponderState,
} from "../io/xdp/responder_state.ts";

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;

/** The IPv4 address the program answers on: null for any; undefined when there is none. */
export function xdpServedAddress(bindAddresses: readonly string[]): string | null | undefined {
  const v4 = bindAddresses.find((a) => parseIpAddress(a)?.family === 4);
  if (v4 !== undefined) return v4 === "0.0.0.0" ? null : v4;
  return bindAddresses.length === 0 || bindAddresses.includes("::") ? null : undefined;
}

/** Why `xdpserver` cannot be used with this configuration (empty: it can). */
export function xdpServerErrors(config: Config): string[] {
  if (!config.xdpServer?.length) return [];
  const out: string[] = [];
  if (config.port === 0) out.push("xdpserver needs the NTP port (port is 0)");
  if (config.smoothTime) {
    out.push("xdpserver cannot be used with smoothtime: the kernel serves the unsmoothed clock");
  }
  const device = config.bindDevice ?? null;
  const others = device === null ? [] : config.xdpServer.filter((name) => name !== device);
  if (others.length > 0) {
    out.push(`xdpserver ${others.join(", ")}: the server is bound to ${device} (binddevice)`);
  }
  if (xdpServedAddress(config.bindAddresses) === undefined) {
    out.push("xdpserver answers IPv4 only, and no IPv4 address is bound (bindaddress)");
  }
  return out;
}

/** The clock the daemon serves, as the service reads it. */
export interface ServedClock {
  /** Cooked time of a raw instant. */
  cook(raw: Instant): Instant;
  /** Raw (driver) time of a CLOCK_REALTIME instant. */
  rawFromRealtime(realtime: Instant): Instant;
  /** Raw seconds per CLOCK_MONOTONIC second, minus 1. */
  rawRateError(): number;
  /** Calls `fn` after every change of the cooked clock's rate or value. */
  onChange(fn: () => void): void;
}

/**
 * The served clock as a line in CLOCK_MONOTONIC, from the closest of three readings of
 * CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_MONOTONIC (the monotonic time is their midpoint);
 * the rate from the cooked clock's slope over 100 s of raw time and the raw clock's own rate.
 */
export function servedLine(
  clock: ServedClock,
  read: (id: number) => bigint = clockGettime,
): ServedLine {
  let best = { mono: 0n, realtime: 0n, width: -1n };
  for (let i = 0; i < 3; i++) {
    const a = read(CLOCK_MONOTONIC);
    const realtime = read(CLOCK_REALTIME);
    const b = read(CLOCK_MONOTONIC);
    if (best.width < 0n || b - a < best.width) {
      best = { mono: (a + b) / 2n, realtime, width: b - a };
    }
  }
  const raw = clock.rawFromRealtime(best.realtime);
  const served = clock.cook(raw);
  const span = 100_000_000_000n;
  const cookRate = Number(clock.cook(raw + span) - served - span) / Number(span);
  return {
    monotonicNs: best.mono,
    served,
    rateError: (1 + cookRate) * (1 + clock.rawRateError()) - 1,
    realtimeMinusMono: best.realtime - best.mono,
  };
}

/** `clients` with the kernel's clients added (hits summed, the latest hit kept). */
export function mergeXdpClients(
  reports: readonly ClientAccessReport[],
  kernel: readonly XdpClient[],
  monotonicNow: bigint,
): ClientAccessReport[] {
  const out = reports.map((r) => ({ ...r }));
  const byAddress = new Map(out.map((r) => [r.address, r]));
  for (const c of kernel) {
    const ago = Math.max(0, Math.round(Number(monotonicNow - c.lastMonotonicNs) / 1e9));
    const known = byAddress.get(c.address);
    if (known !== undefined) {
      known.ntpHits += c.hits;
      known.ntpDrops += c.drops;
      known.lastNtpHitAgo = Math.min(known.lastNtpHitAgo, ago);
      continue;
    }
    const report: ClientAccessReport = {
      address: c.address,
      ntpHits: c.hits,
      ntpDrops: c.drops,
      cmdHits: 0,
      cmdDrops: 0,
      ntpInterval: INTERVAL_UNKNOWN,
      cmdInterval: INTERVAL_UNKNOWN,
      lastNtpHitAgo: ago,
      lastCmdHitAgo: NEVER_AGO,
    };
    out.push(report);
    byAddress.set(c.address, report);
  }
  return out;
}

/**
 * `serverstats` with the kernel's counters added: every request it took was received, the
 * limited ones dropped (a KoD RATE among them), and every reply it sent had kernel times.
 */
export function addXdpServerStats(stats: ServerStatsReport, c: XdpCounters): ServerStatsReport {
  const replies = c.answered + c.kod;
  return {
    ...stats,
    ntpHits: stats.ntpHits + c.answered + c.limited,
    ntpDrops: stats.ntpDrops + c.limited,
    ntpKernelRxTimestamps: stats.ntpKernelRxTimestamps + replies,
    ntpKernelTxTimestamps: stats.ntpKernelTxTimestamps + replies,
  };
}

/** What the service needs from the daemon. */
export interface XdpServiceDeps {
  /** The served clock. */
  clock: ServedClock;
  /** What is announced now. */
  reference: () => ReferenceState;
  /** The NTP access table. */
  access: AccessTable;
  /** Timers for the periodic rewrite. */
  timers: TimerPort;
  /** Where to report. */
  log: LogPort;
}

/** A running `xdpserver`. */
export interface XdpService {
  /** Rewrites the access prefixes (after allow/deny). */
  accessChanged(): void;
  /** `serverstats` with the kernel's replies. */
  serverStats(stats: ServerStatsReport): ServerStatsReport;
  /** `clients` with the kernel's clients. */
  clients(reports: readonly ClientAccessReport[]): ClientAccessReport[];
  /** Detaches the program. */
  close(): void;
}

/**
 * Loads the program and attaches it to every interface of `xdpserver`. Returns null (after
 * logging why) when it cannot be loaded or attached anywhere: the daemon then answers every
 * request itself, as without the directive.
 */
export function startXdpService(config: Config, deps: XdpServiceDeps): XdpService | null {
  const names = config.xdpServer ?? [];
  if (names.length === 0) return null;
  let xdp: XdpResponder;
  try {
    xdp = XdpResponder.load(config.xdpMode === "tc" ? "tc" : "xdp");
  } catch (error) {
    deps.log.log(
      "error",
      `xdpserver: could not load the XDP program (${errorMessage(error)}); ` +
        "the daemon answers every request",
    );
    return null;
  }
  const bindAddress = xdpServedAddress(config.bindAddresses) ?? null;
  const base = {
    port: config.port,
    bindAddress,
    tos: ((config.dscp ?? 0) & 63) << 2,
    clientLog: !config.noClientLog,
    // chrony applies ratelimit only with the client log (noclientlog turns both off).
    rateLimit: config.noClientLog ? null : config.rateLimit,
  };
  const complain = (what: string, error: unknown) =>
    deps.log.log("error", `xdpserver: could not ${what} (${errorMessage(error)})`);
  // The kernel answers only while its access table is whole.
  let accessOk = false;
  let failed = false;
  const write = () => {
    const line = servedLine(deps.clock);
    const reference = deps.reference();
    const state: XdpResponderState = {
      ...base,
      enabled: accessOk && !nearLeapSecond(reference.leap, line.served),
      line,
      reference,
    };
    try {
      xdp.setState(state);
      failed = false;
    } catch (error) {
      // The state goes stale and the program hands every request to the daemon.
      if (!failed) complain("update the kernel", error);
      failed = true;
    }
  };
  const writeAccess = () => {
    accessOk = false;
    write();
    try {
      xdp.setAccess(deps.access.ipv4Prefixes());
      accessOk = true;
    } catch (error) {
      complain("write the access table; the daemon answers every request", error);
      return;
    }
    write();
  };
  let localFailed = false;
  const writeLocal = () => {
    if (bindAddress !== null) return;
    try {
      xdp.setLocalAddresses(localIpv4Addresses());
      localFailed = false;
    } catch (error) {
      if (!localFailed) complain("write this host's addresses", error);
      localFailed = true;
    }
  };
  writeLocal();
  writeAccess();
  const attached: string[] = [];
  for (const name of names) {
    try {
      const mode = config.xdpMode ?? "auto";
      xdp.attach(name, mode === "tc" ? "auto" : mode);
      attached.push(name);
    } catch (error) {
      complain(`attach to ${name}`, error);
    }
  }
  if (attached.length === 0) {
    xdp.close();
    deps.log.log("error", "xdpserver: attached nowhere; the daemon answers every request");
    return null;
  }
  deps.log.log(
    "info",
    `xdpserver: plain IPv4 requests to port ${config.port} answered in the kernel on ` +
      `${attached.join(", ")} (${
        config.xdpMode === "tc" ? "tcx ingress" : `${config.xdpMode ?? "auto"} XDP`
      })`,
  );

  let closed = false;
  let pending = false;
  const soon = () => {
    if (pending || closed) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      if (!closed) write();
    });
  };
  deps.clock.onChange(soon);
  let timer: TimerHandle | null = null;
  let ticks = 0;
  const tick = () => {
    if (closed) return;
    if (++ticks % LOCAL_REFRESH_TICKS === 0) writeLocal();
    write();
    timer = deps.timers.setTimer(XDP_REFRESH_SECONDS, tick);
  };
  timer = deps.timers.setTimer(XDP_REFRESH_SECONDS, tick);

  // One walk of the kernel's client map serves a whole `clients` listing (one call a page).
  let clientCache: { at: number; clients: XdpClient[] } | null = null;
  const kernelClients = () => {
    const now = performance.now();
    if (clientCache === null || now - clientCache.at > CLIENT_CACHE_MS) {
      clientCache = { at: now, clients: xdp.clients() };
    }
    return clientCache.clients;
  };
  return {
    accessChanged: () => {
      if (!closed) writeAccess();
    },
    serverStats: (stats) => {
      if (closed) return stats;
      try {
        return addXdpServerStats(stats, xdp.counters());
      } catch (error) {
        complain("read the kernel's counters", error);
        return stats;
      }
    },
    clients: (reports) => {
      if (closed) return [...reports];
      try {
        return mergeXdpClients(reports, kernelClients(), clockGettime(CLOCK_MONOTONIC));
      } catch (error) {
        complain("read the kernel's clients", error);
        return [...reports];
      }
    },
    close: () => {
      if (closed) return;
      closed = true;
      if (timer !== null) deps.timers.cancelTimer(timer);
      xdp.close();
    },
  };
}

/** The local addresses are read again every this many refreshes (2 s). */
const LOCAL_REFRESH_TICKS = 4;
/** How long one walk of the kernel's client map is reused, ms. */
const CLIENT_CACHE_MS = 2000;
/** Around a leap second the daemon answers: this many seconds either side of midnight UTC. */
const LEAP_GUARD_SECONDS = 5;

/**
 * True within LEAP_GUARD_SECONDS of midnight UTC (by `served`, Unix ns) while a leap second is
 * announced (leap 1 or 2): the kernel steps CLOCK_REALTIME then and tells no one, so the
 * kernel's line of the served clock is not trusted around it.
 */
export function nearLeapSecond(leap: number, served: bigint): boolean {
  if (leap !== 1 && leap !== 2) return false;
  const secondOfDay = Number((served / 1_000_000_000n) % 86_400n);
  return secondOfDay >= 86_400 - LEAP_GUARD_SECONDS || secondOfDay < LEAP_GUARD_SECONDS;
}

/** This host's IPv4 addresses (every interface), as octets. */
export function localIpv4Addresses(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const i of Deno.networkInterfaces()) {
    if (i.family !== "IPv4") continue;
    const octets = parseIpv4(i.address);
    if (octets !== null && !out.some((o) => o.join(".") === octets.join("."))) out.push(octets);
  }
  return out;
}
