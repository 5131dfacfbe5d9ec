/**
 * chrony's option scenarios on sources and selection (test/simulation 116-202): minsources,
 * the trust/prefer/require select options, maxunreach, fallbackdrift, maxdelay, the sample
 * filter, burst, maxchange, prefer and frequency accumulation with a wrong driftfile.
 *
 * @module
 */
import { DEFAULT_WATCH } from "../scenario.ts";
import type { CatalogEntry } from "./entry.ts";
import {
  logCountIn,
  loggedBetween,
  packetIntervalOk,
  SELECTION,
  sourceSelectionOk,
  twoWay,
} from "./criteria.ts";
import type { SourceParams } from "../../config/model.ts";

/** 116-202: chrony's scenarios on sources and selection, in catalogue order. */
export function sourceOptionScenarios(): CatalogEntry[] {
  const list: CatalogEntry[] = [];
  for (const servers of [1, 3]) {
    list.push({
      id: `116-minsources 3 with ${servers}`,
      title: `minsources 3 with ${servers} server${servers > 1 ? "s" : ""}`,
      spec: {
        name: `116 ${servers}`,
        duration: 10_000,
        servers: Array.from({ length: servers }, () => ({})),
        config: { minSources: 3 },
      },
      expectSync: servers === 3,
      criteria: { ...SELECTION, "packet interval": (r) => packetIntervalOk(r, servers) },
      mustFail: servers === 3 ? [] : ["source selection"],
    });
  }
  // 120: id, one-way delay, falsetickers (the first servers), each server's options, whether
  // it syncs, whether the selection check passes.
  const selectOptions: [string, number, number, Partial<SourceParams>[], boolean, boolean][] = [
    ["trust", 0.6, 2, [{}, {}, { trust: true }], true, true],
    ["prefer", 0.6, 2, [{}, {}, { prefer: true }], false, true],
    ["prefer 1.1 s", 1.1, 2, [{}, {}, { prefer: true }], true, true],
    ["require", 1e-4, 1, [{}, {}, { require: true }], true, true],
    ["require falseticker", 1e-4, 1, [{ require: true }, {}, {}], false, false],
  ];
  for (const [id, delay, falsetickers, options, sync, selection] of selectOptions) {
    list.push({
      id: `120-selectoptions ${id}`,
      title: `3 servers, ${falsetickers} false, delay ${delay} s, ` +
        `${options.map((p, i) => Object.keys(p).map((k) => `${k} on ${i + 1}`).join("")).join("")}`,
      spec: {
        name: `120 ${id}`,
        duration: 10_000,
        servers: options.map((p, i) => ({
          offset: i < falsetickers ? i + 1 : 0,
          path: twoWay(delay),
          sourceParams: p,
        })),
      },
      expectSync: sync,
      criteria: { ...SELECTION, "packet interval": (r) => packetIntervalOk(r, 3) },
      mustFail: selection ? [] : ["source selection"],
    });
  }
  for (const maxUnreach of [100_000, 10]) {
    const name1 = "Selected source 192.168.123.1";
    const name2 = "Selected source 192.168.123.2";
    list.push({
      id: `150-maxunreach ${maxUnreach}`,
      title:
        `server 1 unreachable from 2000 s, server 2 at 0.5 s one-way; maxunreach ${maxUnreach}`,
      spec: {
        name: `150 ${maxUnreach}`,
        duration: 5000,
        servers: [
          { path: { drop: (t, dir) => dir === "up" && t >= 2000 } },
          { path: twoWay(1e-4 + 0.5) },
        ],
        sourceParams: { minPoll: 6, maxPoll: 6, minSamples: 64, maxUnreach },
        watch: [...DEFAULT_WATCH, name1, name2],
      },
      criteria: {
        ...SELECTION,
        "packet interval": (r) => packetIntervalOk(r, 2),
        "log messages": (r) => [
          ...logCountIn(r, name1, 1, 1),
          ...logCountIn(r, name2, maxUnreach === 10 ? 1 : 0, maxUnreach === 10 ? 1 : 0),
          ...(maxUnreach === 10 && loggedBetween(r, name2, 3120, 3180) !== 1
            ? [`"${name2}" not logged at 00:52 (3120-3180 s)`]
            : []),
        ],
      },
    });
  }
  list.push({
    id: "117-fallbackdrift",
    title: "100 ppm sine(1000 s) drift, link lost after 4250 s, fallbackdrift 6 10",
    spec: {
      name: "117",
      duration: 100_000,
      clock: {
        offset: 10,
        freq: 0,
        wander: 0,
        freqFn: (t) => 1e-4 * Math.sin(2 * Math.PI * t / 1000),
      },
      servers: [{
        path: { ...twoWay(0, 1e-6), drop: (t) => t >= 4250 },
      }],
      sourceParams: { minPoll: 4, maxPoll: 4 },
      config: { fallbackDrift: { min: 6, max: 10 } },
      limits: { timeMax: 1, timeRms: 1, freqMax: 2e-4, freqRms: 1e-4 },
    },
    // chrony's current 117 script checks only the sync figures; an older one also ran
    // check_source_selection (no "no selectable sources" at all). But the only source goes
    // silent at 4250 s and chrony logs that line when its reach register empties (014, the
    // same loss, expects it 9-10 times). So: selected, never "no majority", and "no selectable
    // sources" exactly once, after the link is lost.
    criteria: {
      "source selection": (r) => [
        ...sourceSelectionOk(r).filter((f) => !f.includes("no selectable sources")),
        ...(loggedBetween(r, "no selectable sources", 0, 4250) > 0
          ? ['"no selectable sources" logged before the link was lost']
          : []),
        ...logCountIn(r, "no selectable sources", 1, 1),
      ],
    },
  });
  const maxdelayPath = twoWay(1e-5, 1e-5);
  list.push({
    id: "118-maxdelay sync",
    title: "10 µs + 10 µs jitter, maxdelay 3e-5 maxdelayratio 2 maxdelaydevratio 2",
    spec: {
      name: "118a",
      duration: 10_000,
      clock: { freq: 0, wander: 0, freqFn: (t) => 1e-10 * t },
      servers: [{ path: maxdelayPath }],
      sourceParams: { maxPoll: 6, maxDelay: 3e-5, maxDelayRatio: 2, maxDelayDevRatio: 2 },
      limits: { maxSyncTime: 2000, timeRms: 2e-4 },
    },
    criteria: { ...SELECTION, "packet interval": (r) => packetIntervalOk(r) },
  });
  list.push({
    id: "118-maxdelay 2e-5 no sync",
    title: "maxdelay 2e-5 rejects nearly every sample: must not sync",
    spec: {
      name: "118b",
      duration: 10_000,
      clock: { freq: 0, wander: 0, freqFn: (t) => 1e-10 * t },
      servers: [{ path: maxdelayPath }],
      sourceParams: { maxPoll: 6, maxDelay: 2e-5 },
      limits: { maxSyncTime: 2000, timeRms: 2e-4 },
    },
    expectSync: false,
    criteria: { "packet interval": (r) => packetIntervalOk(r) },
  });
  list.push({
    id: "127-filter",
    title: "minpoll = maxpoll = 4 with a 15-sample median filter",
    spec: {
      name: "127",
      duration: 10_000,
      sourceParams: { minPoll: 4, maxPoll: 4, filter: 15 },
      limits: { minSyncTime: 710, maxSyncTime: 720 },
    },
    criteria: {
      ...SELECTION,
      "packet interval": (r) => [
        ...packetIntervalOk(r),
        ...(r.transport.minOutInterval <= 16.1
          ? []
          : [`min out interval ${r.transport.minOutInterval.toFixed(2)} > 16.1`]),
        ...(r.transport.meanOutInterval >= 15.9
          ? []
          : [`mean out interval ${r.transport.meanOutInterval.toFixed(2)} < 15.9`]),
      ],
    },
  });
  list.push({
    id: "126-burst",
    title: "3 of 4 client requests lost, burst polltarget 1",
    spec: {
      name: "126",
      duration: 10_000,
      servers: [{ path: { drop: (_t, dir, n) => dir === "up" && n % 4 !== 0 } }],
      sourceParams: { burst: true, pollTarget: 1 },
      limits: { minSyncTime: 700, maxSyncTime: 730 },
    },
    criteria: {
      ...SELECTION,
      "packet interval": (r) => [
        ...(r.transport.meanOutInterval >= 150
          ? []
          : [`mean out interval ${r.transport.meanOutInterval.toFixed(1)} < 150`]),
        ...(r.transport.minOutInterval <= 2.2
          ? []
          : [`min out interval ${r.transport.minOutInterval.toFixed(2)} > 2.2`]),
      ],
    },
  });
  list.push({
    id: "131-maxchange",
    title: "maxchange 0.1 1 3 and a +0.5 s external step at 3000 s: 3 ignored, then exit",
    spec: {
      name: "131",
      duration: 10_000,
      clock: { offset: 0.05, steps: [{ at: 3000, delta: 0.5 }] },
      config: { maxChange: { offset: 0.1, start: 1, ignore: 3 } },
      watch: [...DEFAULT_WATCH, "seconds (ignored)", "seconds (exiting)"],
    },
    checkSync: false,
    criteria: {
      "log messages": (r) => [
        ...logCountIn(r, "seconds (ignored)", 3, 3),
        ...logCountIn(r, "seconds (exiting)", 1, 1),
      ],
      "exit": (r) =>
        r.fatal && r.fatal.t > 3000 ? [] : [`no exit after the step (${JSON.stringify(r.fatal)})`],
    },
  });
  list.push({
    id: "202-prefer",
    title: "3 good servers, prefer on the third",
    spec: {
      name: "202",
      duration: 10_000,
      servers: [{}, {}, { sourceParams: { prefer: true } }],
    },
    criteria: { ...SELECTION, "packet interval": (r) => packetIntervalOk(r, 3) },
  });
  for (const freq of [-5e-2, -5e-4, 5e-4, 5e-2]) {
    for (const drift of [-1e4, -1e2, 1e2, 1e4]) {
      list.push({
        id: `201-freqaccumulation ${freq} drift ${drift}`,
        title: `100 s off, freq ${freq}, wrong driftfile ${drift} ppm (skew 1e5), makestep 1 1`,
        spec: {
          name: `201 ${freq} ${drift}`,
          duration: 180,
          clock: { offset: 100, freq, wander: 0 },
          servers: [{
            path: twoWay(1e-6, 1e-6),
          }],
          sourceParams: { minPoll: 6, maxPoll: 6 },
          config: { makeStep: { threshold: 1, limit: 1 } },
          // chrony's driftfile holds "ppm fast"; tempus's correction has the opposite sign.
          initialDrift: { freqPpm: -drift, skewPpm: 1e5 },
          limits: {
            timeMax: 1e-5,
            freqMax: 1e-7,
            timeRms: 1e-5,
            freqRms: 1e-7,
            minSyncTime: 120,
            maxSyncTime: 140,
          },
        },
      });
    }
  }
  return list;
}
