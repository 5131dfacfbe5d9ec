/**
 * chrony's option scenarios on polling and the clock (test/simulation 101-114): fixed and
 * sub-second polling, iburst, the driftfile, packet loss, server rate limiting, leap
 * seconds, makestep and presend.
 *
 * @module
 */
import { DEFAULT_WATCH } from "../scenario.ts";
import type { CatalogEntry } from "./entry.ts";
import { logCountIn, packetIntervalOk, SELECTION, twoWay } from "./criteria.ts";

/** 101-114: chrony's scenarios on polling and the clock, in catalogue order. */
export function clockOptionScenarios(): CatalogEntry[] {
  const list: CatalogEntry[] = [];
  // chrony's 101: fixed polling, 1 µs jitter, no wander, makestep 1e-2 1, limits 1e-5/5e-6.
  const pollSpec = (poll: number, duration: number, minSyncTime: number, maxSyncTime: number) => ({
    name: `101 ${poll}`,
    duration,
    clock: { wander: 0 },
    servers: [{ path: twoWay(1e-4, 1e-6) }],
    sourceParams: { minPoll: poll, maxPoll: poll },
    config: { makeStep: { threshold: 1e-2, limit: 1 } },
    limits: {
      timeMax: 1e-5,
      freqMax: 1e-5,
      timeRms: 5e-6,
      freqRms: 5e-6,
      minSyncTime,
      maxSyncTime,
    },
  });
  for (const poll of [2, 4, 6, 8, 10, 12, 14]) {
    const p2 = 2 ** poll;
    list.push({
      id: `101-poll ${poll}`,
      title: `minpoll = maxpoll = ${poll}, jitter 1 µs, no wander`,
      spec: pollSpec(poll, p2 * 10, p2 * 2, Math.floor(p2 * 21 / 10) + 1),
      criteria: {
        ...SELECTION,
        "packet interval": (r) => [
          ...packetIntervalOk(r),
          ...(r.transport.meanOutInterval >= 0.99 * p2 ? [] : [
            `mean outgoing interval ${r.transport.meanOutInterval.toFixed(2)} < 0.99·2^${poll}`,
          ]),
        ],
      },
    });
  }
  for (const poll of [-7, -5, -3, -1]) {
    const p2 = 2 ** poll;
    list.push({
      id: `101-poll ${poll}`,
      title: `minpoll = maxpoll = ${poll} over a 100 µs LAN, jitter 1 µs, no wander`,
      spec: { ...pollSpec(poll, 20, 0, 2.1 * p2 + 1), ticksPerSecond: 128 },
      criteria: {
        ...SELECTION,
        "sub-second polling": (r) =>
          r.transport.meanOutInterval <= 1.1 * p2
            ? []
            : [`mean outgoing interval ${r.transport.meanOutInterval.toFixed(4)} > 1.1·2^${poll}`],
      },
    });
  }
  list.push({
    id: "101-poll -3 over 20 ms",
    title: "minpoll = maxpoll = -3 with 20 ms delay: held at 1 s",
    spec: {
      name: "101 -3 wan",
      duration: 200,
      servers: [{ path: twoWay(2e-2) }],
      sourceParams: { minPoll: -3, maxPoll: -3 },
      limits: {
        minSyncTime: 0,
        maxSyncTime: 200,
        timeMax: Infinity,
        freqMax: Infinity,
        timeRms: Infinity,
        freqRms: Infinity,
      },
    },
    criteria: {
      "poll held at 1 s": (r) =>
        r.transport.minOutInterval >= 0.99
          ? []
          : [`min outgoing interval ${r.transport.minOutInterval.toFixed(3)} s < 1 s`],
    },
  });
  list.push({
    id: "102-iburst",
    title: "iburst with a correct driftfile, makestep 1e-2 1",
    spec: {
      name: "102",
      duration: 10_000,
      sourceParams: { iburst: true },
      config: { makeStep: { threshold: 1e-2, limit: 1 } },
      initialDrift: { freqPpm: -1e-4 / (1 + 1e-4) * 1e6, skewPpm: 1 },
      limits: { minSyncTime: 4, maxSyncTime: 6 },
    },
    criteria: { ...SELECTION, "packet interval": (r) => packetIntervalOk(r) },
  });
  for (const freq of [-5e-2, -5e-4, -5e-6, 5e-6, 5e-4, 5e-2]) {
    list.push({
      id: `104-driftfile ${freq}`,
      title: `no server, driftfile holds the exact frequency of a ${freq} clock`,
      spec: {
        name: `104 ${freq}`,
        duration: 10,
        clock: { offset: 0, freq, wander: 0 },
        servers: [],
        // chrony's driftfile value 1e6 - 1e6/(1 + f) ("fast"), as a tempus correction.
        initialDrift: { freqPpm: -(1e6 - 1e6 / (1 + freq)), skewPpm: 1 },
        limits: { freqMax: 1e-9, minSyncTime: 1, maxSyncTime: 1 },
      },
    });
  }
  list.push({
    id: "125-packetloss",
    title: "a third of the packets lost in each direction",
    spec: {
      name: "125",
      duration: 20_000,
      servers: [{ path: { loss: 1 / 3 } }],
      limits: { maxSyncTime: 10_000 },
    },
    criteria: SELECTION,
  });
  for (const kod of [0, 2]) {
    list.push({
      id: `135-ratelimit${kod ? " kod 2" : ""}`,
      title: `server ratelimit interval 6 burst 2 leak 4${kod ? " kod 2" : ""}, client poll 3`,
      spec: {
        name: `135 ${kod}`,
        duration: 10_000,
        servers: [{ rateLimit: { interval: 6, burst: 2, leak: 4, kod } }],
        sourceParams: { minPoll: 3, maxPoll: 3 },
        watch: [...DEFAULT_WATCH, "Received KoD RATE"],
      },
      checkSync: false,
      criteria: kod ? { "KoD messages": (r) => logCountIn(r, "Received KoD RATE", 100, 140) } : {
        "requests and responses": (r) => [
          ...(r.transport.sent >= 1200 && r.transport.sent <= 1300
            ? []
            : [`${r.transport.sent} requests, expected 1200-1300`]),
          ...(r.transport.received >= 180 && r.transport.received <= 220
            ? []
            : [`${r.transport.received} responses, expected 180-220`]),
        ],
      },
    });
  }
  for (const mode of ["system", "step", "slew"] as const) {
    const leap = 2 * 86_400;
    list.push({
      id: `113-leapsecond ${mode}`,
      title: `leap second inserted at the end of 2008-12-31, leapsecmode ${mode}`,
      spec: {
        name: `113 ${mode}`,
        duration: 4 * 86_400,
        // 2008-12-30T00:00:00Z: the leap second ends 2008-12-31 (two days in).
        startEpoch: 1_230_595_200n * 1_000_000_000n,
        leapAt: leap,
        tickPhase: 0.5,
        config: { leapSecMode: mode },
        limits: { maxSyncTime: mode === "slew" ? leap + 12 : leap },
      },
      criteria: { ...SELECTION, "packet interval": (r) => packetIntervalOk(r) },
    });
  }
  for (const offset of [-1, -0.1, 0.1, 1, -100, 100, -1e8, 1e8]) {
    const big = Math.abs(offset) >= 100;
    list.push({
      id: `109-makestep ${offset > 0 ? "+" : ""}${offset}`,
      title: `makestep 2 1 with a ${offset} s offset`,
      spec: {
        name: `109 ${offset}`,
        duration: 200,
        clock: { offset },
        servers: [{ path: twoWay(1e-4, 1e-5) }],
        config: { makeStep: { threshold: 2, limit: 1 } },
        limits: big
          ? { minSyncTime: 120, maxSyncTime: 140 }
          : { minSyncTime: 130, maxSyncTime: 150 },
      },
      criteria: SELECTION,
    });
  }
  for (const delay of [1e-4, 5]) {
    list.push({
      id: `114-presend delay ${delay}`,
      title: `presend 6 maxdelay 16, maxdistance 10, one-way base delay ${delay} s`,
      spec: {
        name: `114 ${delay}`,
        servers: [{ path: twoWay(delay) }],
        sourceParams: { presend: 6, maxDelay: 16 },
        config: { maxDistance: 10 },
        // chrony's current script (limit 9900, min_sync_time 136); an older one had 140.
        duration: 9_900,
        limits: { minSyncTime: 136, maxSyncTime: 260 },
      },
      criteria: { ...SELECTION, "packet interval": (r) => packetIntervalOk(r) },
    });
  }
  return list;
}
