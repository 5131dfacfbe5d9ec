/**
 * chrony's basic simulation scenarios (test/simulation 001-014), with the pass thresholds of
 * test.common and each script.
 *
 * @module
 */
import { DEFAULT_WATCH } from "../scenario.ts";
import type { CatalogEntry } from "./entry.ts";
import { logCountIn, neverStepped, packetIntervalOk, SELECTION, twoWay } from "./criteria.ts";

/** 001-003-004-006-007-009-011-014: chrony's basic scenarios. */
export function basicScenarios(): CatalogEntry[] {
  const list: CatalogEntry[] = [];
  list.push({
    id: "001-defaults",
    title: "0.1 s and 100 ppm off, 100 µs + 100 µs·Exp delay",
    spec: { name: "001-defaults", duration: 10_000 },
    criteria: { ...SELECTION, "packet interval": (r) => packetIntervalOk(r) },
  });
  list.push({
    id: "002-largenetwork",
    title: "3 strata of 4 servers (strata 2-3 run tempus), 5 clients start at 2000 s",
    spec: { name: "002", duration: 10_000 },
    network: {
      name: "002",
      duration: 10_000,
      strata: 3,
      serversPerStratum: 4,
      clients: 5,
      clientStart: 2000,
      limits: { timeRms: 5e-4, minSyncTime: 2100, maxSyncTime: 2300 },
    },
    criteria: { "packet interval": (r) => packetIntervalOk(r, 4) },
  });
  for (const freq of [-5e-2, -5e-3, 5e-3, 5e-2]) {
    list.push({
      id: `003-largefreqoffset ${freq > 0 ? "+" : ""}${freq}`,
      title: `frequency error ${freq * 1e6} ppm, offset -freq·130 s`,
      spec: {
        name: `003 ${freq}`,
        duration: 10_000,
        clock: { freq, offset: -freq * 130 },
        limits: { maxSyncTime: 1000 },
      },
      criteria: SELECTION,
    });
  }
  for (const offset of [-100, 100]) {
    list.push({
      id: `004-largetimeoffset ${offset > 0 ? "+" : ""}${offset}`,
      title: `${offset} s offset slewed (no makestep)`,
      spec: {
        name: `004 ${offset}`,
        duration: 10_000,
        clock: { offset },
        limits: { minSyncTime: 1300, maxSyncTime: 1400 },
      },
      criteria: { ...SELECTION, "never stepped": neverStepped },
    });
  }
  for (const step of [-100, 100]) {
    list.push({
      id: `005-externalstep ${step > 0 ? "+" : ""}${step}`,
      title: `external ${step} s step at 150 s, no makestep`,
      spec: {
        name: `005 ${step}`,
        duration: 10_000,
        clock: { steps: [{ at: 150, delta: step }] },
        limits: { minSyncTime: 1500, maxSyncTime: 1550 },
      },
    });
  }
  for (const step of [-1e8, -1e5, 1e5, 1e8]) {
    list.push({
      id: `005-externalstep makestep ${step > 0 ? "+" : ""}${step}`,
      title: `external ${step} s step at 5000 s, makestep 1 -1`,
      spec: {
        name: `005 ms ${step}`,
        duration: 10_000,
        clock: { steps: [{ at: 5000, delta: step }] },
        config: { makeStep: { threshold: 1, limit: -1 } },
        limits: { minSyncTime: 5120, maxSyncTime: 6200 },
      },
    });
  }
  list.push({
    id: "006-largejitter",
    title: "1 s offset, 0.1 s exponential jitter",
    spec: {
      name: "006",
      duration: 10_000,
      clock: { offset: 1 },
      servers: [{ path: twoWay(1e-4, 0.1) }],
      limits: { timeMax: 0.5, freqMax: 0.2, timeRms: 0.1, freqRms: 5e-3 },
    },
    criteria: { ...SELECTION, "packet interval": (r) => packetIntervalOk(r) },
  });
  list.push({
    id: "007-largewander",
    title: "wander 1e-7 per √s",
    spec: {
      name: "007",
      duration: 10_000,
      clock: { wander: 1e-7 },
      limits: { timeMax: 5e-3, freqMax: 5e-3, timeRms: 1e-3, freqRms: 1e-4 },
    },
    criteria: SELECTION,
  });
  list.push({
    id: "008-ntpera",
    title: "start 500 s before the NTP era 1 rollover (2036-02-07T06:28:16Z)",
    spec: {
      name: "008",
      duration: 10_000,
      startEpoch: (2_085_978_496n - 500n) * 1_000_000_000n,
    },
    criteria: { ...SELECTION, "packet interval": (r) => packetIntervalOk(r) },
  });
  for (const falsetickers of [1, 2, 3, 4]) {
    const servers = [1, 2, 3, 4, 5].map((i) => ({
      offset: i <= falsetickers ? i : 0,
      path: twoWay(1e-3),
    }));
    const ok = falsetickers < 3;
    const message = falsetickers === 3
      ? "Can't synchronise: no majority (only 2 of 5 sources agree)"
      : "Can't synchronise: no majority (no agreement among 5 sources)";
    list.push({
      id: `009-sourceselection ${falsetickers} of 5 false`,
      title: `5 servers, falseticker i off by i s, ${falsetickers} falsetickers`,
      spec: {
        name: `009 ${falsetickers}`,
        duration: 10_000,
        servers,
        watch: [...DEFAULT_WATCH, message],
      },
      expectSync: ok,
      criteria: ok ? { ...SELECTION, "packet interval": (r) => packetIntervalOk(r, 5) } : {
        "no majority message": (r) => logCountIn(r, message, 1, 1),
        "packet interval": (r) => packetIntervalOk(r, 5),
      },
    });
  }
  list.push({
    id: "009-sourceselection asymmetric",
    title: "3 servers, two with +0.1 s one-way delay to them",
    spec: {
      name: "009 asym",
      duration: 10_000,
      servers: [1, 2, 3].map((i) => ({
        path: {
          up: { base: 1e-3 + (i > 1 ? 0.1 : 0), jitter: 1e-4 },
          down: { base: 1e-3, jitter: 1e-4 },
        },
      })),
    },
    criteria: SELECTION,
  });
  list.push({
    id: "011-asymjitter",
    title: "jitter 5e-4 with asymmetry 0.47, 100 000 s",
    spec: {
      name: "011",
      duration: 100_000,
      servers: [{
        path: { ...twoWay(1e-4, 5e-4), jitterAsymmetry: 0.47 },
      }],
      limits: { maxSyncTime: 2000 },
    },
    criteria: SELECTION,
  });
  list.push({
    id: "014-intermittent",
    title: "link up 1200 s of every 10 000 s, 100 000 s",
    spec: {
      name: "014",
      duration: 100_000,
      servers: [{ path: { linkWindows: { period: 10_000, upFor: 1200 } } }],
      limits: { timeMax: 0.1, freqMax: 1e-2, timeRms: 2e-3, freqRms: 2e-5 },
    },
    criteria: {
      "log messages": (r) => [
        ...logCountIn(r, "no selectable sources", 9, 10),
        ...logCountIn(r, "Selected source", 9, 10),
      ],
    },
  });
  list.push({
    id: "014-intermittent 1 of 20",
    title: "19 of 20 client requests dropped, 100 000 s",
    spec: {
      name: "014b",
      duration: 100_000,
      servers: [{ path: { drop: (_t, dir, n) => dir === "up" && n % 20 !== 0 } }],
      limits: { timeMax: 1e-2, freqMax: 1e-4, timeRms: 5e-3, freqRms: 2e-5, maxSyncTime: 22_000 },
    },
    criteria: {
      "log messages": (r) => [
        ...logCountIn(r, "no selectable sources", 5, 15),
        ...logCountIn(r, "Selected source", 5, 15),
      ],
    },
  });
  return list;
}
