/**
 * What the command protocol (src/cmdmon) may ask of a running engine: reports to read and
 * commands to run. The daemon implements it over the real engine; tests use fakes. cmdmon
 * handlers depend only on this interface, never on engine internals.
 *
 * @module
 */
import type { SmoothingReport } from "./smoothing.ts";
import type {
  ActivityReport,
  ClientAccessReport,
  ManualSampleReport,
  ManualTimestampReport,
  NtpDataReport,
  RtcReport,
  SelectDataReport,
  ServerStatsReport,
  SourceReport,
  SourceStatsReport,
  TrackingReport,
} from "./reports.ts";
import type { Instant } from "../base/time.ts";

/** Selects sources by address and mask (both null = all sources), like chronyc's [mask/]addr. */
export interface SourceMatch {
  /** Address to match, or null for all. */
  address: string | null;
  /** Netmask (IP literal) applied to both, or null for an exact/any match. */
  mask: string | null;
}

/** Result of a control command: ok, or a chrony status name with a message. */
export type ControlResult =
  | { ok: true }
  | {
    ok: false;
    status:
      | "failed"
      | "invalid"
      | "nosuchsource"
      | "invalidts"
      | "notenabled"
      | "badsubnet"
      | "sourcealreadyknown"
      | "toomanysources"
      | "nortc"
      | "badrtcfile"
      | "inactive"
      | "badsample"
      | "invalidname";
    message?: string;
  };

/** Options for adding a source at run time (chronyc `add server|pool|peer`). */
export interface AddSourceRequest {
  /** "server", "pool" or "peer". */
  type: "server" | "pool" | "peer";
  /** Host name or address. */
  name: string;
  /** Port. */
  port: number;
  /** Raw option words as chrony.conf would take them after the name. */
  options: Record<string, number | boolean>;
}

/** chronyc `authdata` for one source (chrony's RPT_AuthReport). */
export interface AuthDataReport {
  /** "none", "symmetric" (a `key` from the keyfile) or "nts". */
  mode: "none" | "symmetric" | "nts";
  /** Key id (symmetric), else 0. */
  keyId: number;
  /** chrony's key type number (hash.h HSH_* or cmac.h CMC_*), else 0. */
  keyType: number;
  /** Key length in bits, else 0. */
  keyLengthBits: number;
  /** NTS-KE attempts. */
  keAttempts: number;
  /** Seconds since the last NTS-KE, or null (chronyc prints "-"). */
  lastKeAgo: number | null;
  /** NTS cookies held. */
  cookies: number;
  /** NTS cookie length. */
  cookieLength: number;
  /** NTS NAKs received. */
  nak: number;
}

/** The engine as the command protocol sees it. */
export interface EngineControl {
  /** `tracking`. */
  tracking(): TrackingReport;
  /** `sources`: one per source, index order stable between calls. */
  sources(): SourceReport[];
  /** `sourcestats`. */
  sourceStats(): SourceStatsReport[];
  /** `selectdata`. */
  selectData(): SelectDataReport[];
  /** `activity`. */
  activity(): ActivityReport;
  /** `ntpdata` for one source address, or null if unknown. */
  ntpData(address: string): NtpDataReport | null;
  /** `serverstats`. */
  serverStats(): ServerStatsReport;
  /** `clients`: per-client records. */
  clients(): ClientAccessReport[];
  /** `sourcename`: configured name of the source with this address, or null. */
  sourceName(address: string): string | null;
  /** `rtcdata`, or null when RTC tracking is off. */
  rtcReport(): RtcReport | null;
  /** `manual list`. */
  manualList(): ManualSampleReport[];

  /** `makestep` with no arguments: step the remaining correction now. */
  makeStepNow(): ControlResult;
  /** `makestep THRESHOLD LIMIT`. */
  modifyMakeStep(threshold: number, limit: number): ControlResult;
  /** `burst GOOD/MAX [mask/addr]`. */
  burst(match: SourceMatch, good: number, total: number): ControlResult;
  /** `online`/`offline` [mask/addr]. */
  setConnectivity(match: SourceMatch, online: boolean): ControlResult;
  /** `onoffline`: online where a route exists, else offline. */
  onOffline(): ControlResult;
  /** `manual on|off|reset`. */
  manual(mode: "on" | "off" | "reset"): ControlResult;
  /** `manual delete N`. */
  manualDelete(index: number): ControlResult;
  /** `settime TIME`: TIME is the true time the operator typed, as an instant. */
  setTime(trueTime: Instant): ControlResult | { ok: true; report: ManualTimestampReport };
  /** `add server|pool|peer`. */
  addSource(request: AddSourceRequest): ControlResult | Promise<ControlResult>;
  /** `delete ADDR`. */
  deleteSource(address: string): ControlResult;
  /** `allow`/`deny` [all] SUBNET for NTP service. */
  ntpAccess(subnet: string | null, allow: boolean, all: boolean): ControlResult;
  /** `cmdallow`/`cmddeny` [all] SUBNET for the command port. */
  cmdAccess(subnet: string | null, allow: boolean, all: boolean): ControlResult;
  /** `accheck ADDR`: is NTP service allowed? */
  ntpAccessCheck(address: string): boolean;
  /** `cmdaccheck ADDR`. */
  cmdAccessCheck(address: string): boolean;
  /** `reselect`. */
  reselect(): ControlResult;
  /** `reselectdist DIST`. */
  reselectDistance(distance: number): ControlResult;
  /** `maxupdateskew PPM`. */
  maxUpdateSkew(ppm: number): ControlResult;
  /** Per-source modifiers: minpoll, maxpoll, maxdelay, maxdelayratio, maxdelaydevratio, minstratum, polltarget. */
  modifySource(address: string, field: string, value: number): ControlResult;
  /** `refresh`: re-resolve source names. */
  refresh(): ControlResult;
  /** `reset sources`: drop all sample histories. */
  resetSources(): ControlResult;
  /** `dump`: write histories to dumpdir. */
  dump(): ControlResult;
  /** `cyclelogs`: reopen log files. */
  cycleLogs(): ControlResult;
  /** `writertc`. */
  writeRtc(): ControlResult;
  /** `trimrtc`. */
  trimRtc(): ControlResult;
  /** `dfreq PPM` (chrony sign on the wire; tempus sense here). */
  adjustFrequency(dfreqPpm: number): ControlResult;
  /** `doffset SECONDS` (tempus sign: > 0 moves the clock forward). */
  adjustOffset(offset: number): ControlResult;
  /** `local` on (with options) or off. */
  local(enabled: boolean, stratum?: number, distance?: number, orphan?: boolean): ControlResult;
  /** `authdata` for one source (null: no such source). Absent: every source "-". */
  authData?(address: string): AuthDataReport | null;
  /** `rekey`: re-read the keyfile. Absent: 500 Failure. */
  rekey?(): ControlResult;
  /** `reload sources`: re-read the sourcedir files. Absent: 500 Failure. */
  reloadSources?(): ControlResult;
  /** `smoothing` (null: smoothtime not configured). Optional: added with smoothtime (ops). */
  smoothing?(): SmoothingReport | null;
  /** `smoothtime reset|activate`. Optional: added with smoothtime (ops). */
  smoothTime?(action: "reset" | "activate"): ControlResult;
  /** `shutdown`. */
  shutdown(): ControlResult;
}
