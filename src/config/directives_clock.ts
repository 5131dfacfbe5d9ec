/**
 * Directives of the clock and its discipline: drift file, stepping and slewing limits,
 * selection thresholds, leap seconds, the `local` reference, manual input, the RTC,
 * temperature compensation and served-time smoothing.
 *
 * @module
 */
import { DEFAULT_LOCAL, ORPHAN_WAIT_UNSYNCED } from "./defaults.ts";
import {
  arity,
  type DirectiveTable,
  flagField,
  num,
  numberField,
  stringField,
} from "./directive_kit.ts";
import type { LeapSecMode, LocalConfig } from "./model.ts";
import type { NumberSpec } from "./values.ts";

const LEAP_MODES: readonly LeapSecMode[] = ["system", "step", "slew", "ignore"];

/** A number above 0. */
const POSITIVE: NumberSpec = { int: false, min: 0, minExclusive: true };

/** Handlers of the clock and discipline directives. */
export const CLOCK_DIRECTIVES: DirectiveTable = {
  driftfile: (config, args, sink) => {
    // chrony: "driftfile FILE [interval N]"; the interval may also come first.
    let file: string | null = null;
    for (let i = 0; i < args.length; i++) {
      if (args[i].toLowerCase() === "interval") {
        const v = num(sink, "driftfile", args[i + 1], { int: true, min: 1, max: 1e9 }, "interval");
        if (v === null) return;
        config.driftFileInterval = v;
        i++;
      } else if (file === null) {
        file = args[i];
      } else {
        sink.error(`driftfile: unexpected argument '${args[i]}'`);
        return;
      }
    }
    if (file === null) {
      sink.error("driftfile: missing file name");
      return;
    }
    config.driftFile = file;
  },
  makestep: (config, args, sink) => {
    if (!arity(sink, "makestep", args, 2, 2)) return;
    const threshold = num(sink, "makestep", args[0], { int: false, min: 0 }, "threshold");
    const limit = num(sink, "makestep", args[1], { int: true }, "limit");
    if (threshold !== null && limit !== null) config.makeStep = { threshold, limit };
  },
  maxslewrate: numberField("maxSlewRate", { int: false, min: 0, max: 500000 }),
  maxupdateskew: numberField("maxUpdateSkew", POSITIVE),
  maxchange: (config, args, sink) => {
    if (!arity(sink, "maxchange", args, 3, 3)) return;
    const offset = num(sink, "maxchange", args[0], POSITIVE, "offset");
    const start = num(sink, "maxchange", args[1], { int: true, min: 0 }, "start");
    const ignore = num(sink, "maxchange", args[2], { int: true }, "ignore");
    if (offset !== null && start !== null && ignore !== null) {
      config.maxChange = { offset, start, ignore };
    }
  },
  maxdrift: numberField("maxDrift", POSITIVE),
  maxclockerror: numberField("maxClockError", { int: false, min: 0 }),
  corrtimeratio: numberField("corrTimeRatio", { int: false, min: 0 }),
  clockprecision: numberField("clockPrecision", { int: false, min: 1e-9, max: 1 }),
  maxdistance: numberField("maxDistance", POSITIVE),
  maxjitter: numberField("maxJitter", POSITIVE),
  minsources: numberField("minSources", { int: true, min: 1, max: 256 }),
  maxstratum: numberField("maxStratum", { int: true, min: 1, max: 15 }),
  reselectdist: numberField("reselectDist", { int: false, min: 0 }),
  stratumweight: numberField("stratumWeight", { int: false, min: 0 }),
  combinelimit: numberField("combineLimit", { int: false, min: 0 }),
  minsamples: numberField("minSamples", { int: true, min: 0, max: 64 }),
  maxsamples: numberField("maxSamples", { int: true, min: 0, max: 64 }),
  fallbackdrift: (config, args, sink) => {
    if (!arity(sink, "fallbackdrift", args, 2, 2)) return;
    const min = num(sink, "fallbackdrift", args[0], { int: true, min: 0, max: 30 }, "min-interval");
    const max = num(sink, "fallbackdrift", args[1], { int: true, min: 0, max: 30 }, "max-interval");
    if (min === null || max === null) return;
    if (min === 0 || max === 0) {
      config.fallbackDrift = null; // chrony: 0 disables fallback drifts
    } else if (max < min) {
      sink.error(`fallbackdrift: max-interval ${max} is below min-interval ${min}`);
    } else {
      config.fallbackDrift = { min, max };
    }
  },
  leapsecmode: (config, args, sink) => {
    if (!arity(sink, "leapsecmode", args, 1, 1)) return;
    const mode = args[0].toLowerCase() as LeapSecMode;
    if (!LEAP_MODES.includes(mode)) {
      sink.error(`leapsecmode: unknown mode '${args[0]}' (system, step, slew or ignore)`);
      return;
    }
    config.leapSecMode = mode;
  },
  leapsectz: stringField("leapSecTz"),
  leapseclist: stringField("leapSecList"),
  local: (config, args, sink) => {
    const local: LocalConfig = { ...DEFAULT_LOCAL };
    let waitUnsyncedSet = false;
    const specs: Record<string, [keyof LocalConfig, NumberSpec]> = {
      stratum: ["stratum", { int: true, min: 1, max: 15 }],
      distance: ["distance", { int: false, min: 0 }],
      waitsynced: ["waitSynced", { int: false, min: 0 }],
      waitunsynced: ["waitUnsynced", { int: false, min: 0 }],
      activate: ["activate", { int: false, min: 0 }],
    };
    for (let i = 0; i < args.length; i++) {
      const option = args[i].toLowerCase();
      if (option === "orphan") {
        local.orphan = true;
        continue;
      }
      const spec = Object.hasOwn(specs, option) ? specs[option] : undefined;
      if (spec === undefined) {
        sink.error(`local: unknown option '${args[i]}'`);
        return;
      }
      const v = num(sink, "local", args[i + 1], spec[1], option);
      if (v === null) return;
      (local as unknown as Record<string, number>)[spec[0]] = v;
      if (option === "waitunsynced") waitUnsyncedSet = true;
      i++;
    }
    if (local.orphan && !waitUnsyncedSet) local.waitUnsynced = ORPHAN_WAIT_UNSYNCED;
    config.local = local;
  },
  manual: flagField("manual"),
  rtcsync: flagField("rtcSync"),
  rtcfile: stringField("rtcFile"),
  rtcdevice: stringField("rtcDevice"),
  rtconutc: flagField("rtcOnUtc"),
  rtcautotrim: numberField("rtcAutoTrim", { int: false, min: 0 }),
  hwclockfile: stringField("hwclockFile"),
  tempcomp: (config, args, sink) => {
    // chrony: "tempcomp FILE INTERVAL T0 K0 K1 K2" or "tempcomp FILE INTERVAL POINTFILE".
    if (args.length !== 6 && args.length !== 3) {
      sink.error("tempcomp: expected FILE INTERVAL T0 K0 K1 K2, or FILE INTERVAL POINTFILE");
      return;
    }
    const interval = num(sink, "tempcomp", args[1], { int: false, min: 0 }, "interval");
    if (interval === null) return;
    const values = [0, 0, 0, 0];
    if (args.length === 6) {
      const names = ["T0", "k0", "k1", "k2"];
      for (let i = 0; i < 4; i++) {
        const v = num(sink, "tempcomp", args[2 + i], { int: false }, names[i]);
        if (v === null) return;
        values[i] = v;
      }
    }
    config.tempComp = {
      file: args[0],
      interval: interval > 0 ? interval : 1.0,
      pointFile: args.length === 3 ? args[2] : null,
      t0: values[0],
      k0: values[1],
      k1: values[2],
      k2: values[3],
    };
  },
  smoothtime: (config, args, sink) => {
    const rest = args.filter((a) => a.toLowerCase() !== "leaponly");
    if (!arity(sink, "smoothtime", rest, 2, 2) || args.length - rest.length > 1) {
      if (args.length - rest.length > 1) sink.error("smoothtime: leaponly given twice");
      return;
    }
    const maxFreq = num(sink, "smoothtime", rest[0], POSITIVE, "max-freq");
    const maxWander = num(sink, "smoothtime", rest[1], POSITIVE, "max-wander");
    if (maxFreq === null || maxWander === null) return;
    config.smoothTime = {
      maxFreqPpm: maxFreq,
      maxWanderPpm: maxWander,
      leapOnly: rest.length !== args.length,
    };
  },
};
