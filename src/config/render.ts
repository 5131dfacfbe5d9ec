/**
 * Prints a `Config` back in chrony.conf syntax: every directive with its effective value
 * (defaults included), so the output documents what tempus will run and parses back to the
 * same Config.
 *
 * @module
 */
import { DEFAULT_SOURCE_PARAMS, defaultConfig, ORPHAN_WAIT_UNSYNCED } from "./defaults.ts";
import { renderBroadcast } from "./directives_broadcast.ts";
import { renderRefclock } from "./refclock_options.ts";
import { SOURCE_FLAG_OPTIONS, SOURCE_VALUE_OPTIONS } from "./source_options.ts";
import type { AccessRule, Config, SourceConfig, SourceParams } from "./model.ts";

const DEFAULTS = defaultConfig();

/** chrony's driftfile interval default (seconds), omitted from the rendered line. */
const DEFAULT_DRIFTFILE_INTERVAL = DEFAULTS.driftFileInterval;

/** One source as a `server|pool|peer NAME [options]` line (non-default options only). */
export function renderSource(source: SourceConfig): string {
  const parts: string[] = [source.type, source.name];
  const p = source.params as unknown as Record<string, unknown>;
  const d = DEFAULT_SOURCE_PARAMS as unknown as Record<string, unknown>;
  for (const [option, field] of Object.entries(SOURCE_FLAG_OPTIONS)) {
    if (p[field] === true) parts.push(option);
  }
  for (const [option, { field }] of Object.entries(SOURCE_VALUE_OPTIONS)) {
    if (option === "maxsources" && source.type !== "pool") continue;
    const v = p[field as keyof SourceParams];
    if (v !== null && v !== undefined && v !== d[field]) parts.push(option, String(v));
  }
  return parts.join(" ");
}

function renderAccess(directive: string, rule: AccessRule): string {
  const parts = [directive];
  if (rule.all) parts.push("all");
  if (rule.subnet !== "all") parts.push(rule.subnet);
  return parts.join(" ");
}

/** The whole configuration in chrony.conf syntax (ends with a newline). */
export function renderConfig(config: Config): string {
  const out: string[] = ["# tempus effective configuration"];
  const line = (...parts: (string | number)[]) => out.push(parts.map(String).join(" "));
  const section = (title: string) => out.push("", `# ${title}`);

  section("Time sources");
  for (const s of config.sources) out.push(renderSource(s));
  for (const r of config.refclocks) out.push(renderRefclock(r));
  if (config.sources.length === 0 && config.refclocks.length === 0) out.push("# (no sources)");
  for (const dir of config.sourceDirs ?? []) {
    out.push(`# sourcedir ${dir} (its sources are listed above)`);
  }
  line("minsamples", config.minSamples);
  line("maxsamples", config.maxSamples);
  line("acquisitionport", config.acquisitionPort);
  for (const a of config.bindAcqAddresses ?? []) line("bindacqaddress", a);
  if (config.bindAcqDevice) line("bindacqdevice", config.bindAcqDevice);
  if (config.dscp) line("dscp", config.dscp);
  // refresh and maxstratum are newer than chrony 4.3: written only when set, so the output
  // of a config using neither stays readable by chronyd 4.3 (`chronyd -p`).
  if (config.refresh !== DEFAULTS.refresh) line("refresh", config.refresh);
  if (config.keyFile !== null) line("keyfile", config.keyFile);
  if (config.dumpDir !== null) line("dumpdir", config.dumpDir);
  if (config.manual) line("manual");

  section("Source selection");
  line("combinelimit", config.combineLimit);
  line("maxdistance", config.maxDistance);
  line("maxjitter", config.maxJitter);
  line("minsources", config.minSources);
  if (config.maxStratum !== DEFAULTS.maxStratum) line("maxstratum", config.maxStratum);
  line("reselectdist", config.reselectDist);
  line("stratumweight", config.stratumWeight);

  section("System clock");
  if (config.clockPrecision !== null) line("clockprecision", config.clockPrecision);
  line("corrtimeratio", config.corrTimeRatio);
  if (config.driftFile !== null) {
    if (config.driftFileInterval === DEFAULT_DRIFTFILE_INTERVAL) {
      line("driftfile", config.driftFile);
    } else line("driftfile", config.driftFile, "interval", config.driftFileInterval);
  }
  if (config.fallbackDrift !== null) {
    line("fallbackdrift", config.fallbackDrift.min, config.fallbackDrift.max);
  }
  line("leapsecmode", config.leapSecMode);
  if (config.leapSecTz !== null) line("leapsectz", config.leapSecTz);
  if (config.leapSecList !== null) line("leapseclist", config.leapSecList);
  if (config.makeStep !== null) {
    line("makestep", config.makeStep.threshold, config.makeStep.limit);
  }
  if (config.maxChange !== null) {
    const m = config.maxChange;
    line("maxchange", m.offset, m.start, m.ignore);
  }
  line("maxclockerror", config.maxClockError);
  line("maxdrift", config.maxDrift);
  line("maxupdateskew", config.maxUpdateSkew);
  line("maxslewrate", config.maxSlewRate);
  const tc = config.tempComp;
  if (tc) {
    if (tc.pointFile !== null) line("tempcomp", tc.file, tc.interval, tc.pointFile);
    else line("tempcomp", tc.file, tc.interval, tc.t0, tc.k0, tc.k1, tc.k2);
  }

  section("NTP server");
  line("port", config.port);
  for (const a of config.bindAddresses) line("bindaddress", a);
  if (config.bindDevice) line("binddevice", config.bindDevice);
  if (config.xdpServer?.length) line("xdpserver", ...config.xdpServer);
  if (config.xdpMode && config.xdpMode !== "auto") line("xdpmode", config.xdpMode);
  for (const r of config.ntpAccess) out.push(renderAccess(r.allow ? "allow" : "deny", r));
  if (config.ntpAccess.length === 0) out.push("# (no allow: serving nobody)");
  if (config.rateLimit !== null) {
    const r = config.rateLimit;
    const parts: (string | number)[] = ["ratelimit", "interval", r.interval, "burst", r.burst];
    parts.push("leak", r.leak);
    if (r.kod !== 0) parts.push("kod", r.kod); // kod is newer than chrony 4.3
    line(...parts);
  }
  line("clientloglimit", config.clientLogLimit);
  if (config.noClientLog) line("noclientlog");
  if (config.local !== null) {
    const l = config.local;
    const parts: (string | number)[] = ["local", "stratum", l.stratum, "distance", l.distance];
    if (l.orphan) parts.push("orphan");
    if (l.waitSynced !== 0) parts.push("waitsynced", l.waitSynced);
    const impliedWait = l.orphan ? ORPHAN_WAIT_UNSYNCED : 0;
    if (l.waitUnsynced !== impliedWait) parts.push("waitunsynced", l.waitUnsynced);
    if (l.activate !== 0) parts.push("activate", l.activate);
    line(...parts);
  }

  section("Command access");
  line("cmdport", config.cmdPort);
  for (const a of config.bindCmdAddresses) line("bindcmdaddress", a);
  line("bindcmdaddress", config.cmdSocket ?? "/");
  if (config.bindCmdDevice) line("bindcmddevice", config.bindCmdDevice);
  for (const r of config.cmdAccess) out.push(renderAccess(r.allow ? "cmdallow" : "cmddeny", r));

  section("Real-time clock");
  if (config.rtcSync) line("rtcsync");
  if (config.rtcFile !== null) line("rtcfile", config.rtcFile);
  line("rtcdevice", config.rtcDevice);
  if (config.rtcOnUtc) line("rtconutc");
  line("rtcautotrim", config.rtcAutoTrim);
  if (config.hwclockFile !== null) line("hwclockfile", config.hwclockFile);

  section("Logging and files");
  if (config.logDir !== null) line("logdir", config.logDir);
  if (config.logKinds.length > 0) line("log", ...config.logKinds);
  line("logbanner", config.logBanner);
  line("logchange", config.logChange);
  if (config.pidFile !== null) line("pidfile", config.pidFile);
  else out.push("# (no pidfile)");
  if (config.user !== null) line("user", config.user);

  // tempus-only directives (chronyd would reject them) appear only when set.
  const port = config.metricsPort ?? 0;
  if (
    port > 0 || config.errorBoundFile || config.smoothTime || config.recordMeasurements ||
    (config.mode6Access ?? []).length > 0
  ) {
    section("Operations");
  }
  if (port > 0) {
    line("metricsport", port);
    line("bindmetricsaddress", config.bindMetricsAddress ?? "127.0.0.1");
  }
  if (config.errorBoundFile) line("errorboundfile", config.errorBoundFile);
  if (config.recordMeasurements) line("recordmeasurements", config.recordMeasurements);
  // mode 6 (ntpq) access, tempus-only: directives_mode6.ts
  for (const r of config.mode6Access ?? []) {
    out.push(renderAccess(r.allow ? "mode6allow" : "mode6deny", r));
  }
  if (config.smoothTime) {
    const st = config.smoothTime;
    const parts: (string | number)[] = ["smoothtime", st.maxFreqPpm, st.maxWanderPpm];
    if (st.leapOnly) parts.push("leaponly");
    line(...parts);
  }
  // broadcast, multicast and manycast (directives_broadcast.ts), when any is set.
  const broadcast = renderBroadcast(
    config,
    (p) => renderSource({ type: "pool", name: "", params: p, origin: "" }).split(" ").slice(2),
  );
  if (broadcast.length > 0) section("Broadcast, multicast and manycast");
  out.push(...broadcast);
  return out.join("\n") + "\n";
}
