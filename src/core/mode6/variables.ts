/**
 * The mode 6 variables tempus answers with (ntpq's `rv`, and the peer rows of `ntpq -p`),
 * rendered from the engine's reports in ntpd's value formats: milliseconds with 3 or 6
 * decimals, l_fp timestamps as `0x%08x.%08x`, reach and flash in hex, strings quoted, the
 * refid as a dotted quad for strata 2-15 and as text otherwise. The status words (system
 * and peer) follow RFC 9327's layout. Pure.
 *
 * What maps onto what (chrony has no system jitter or time constant of its own):
 * sys_jitter is the standard deviation of the selected source, clk_jitter the RMS offset,
 * clk_wander the skew, tc the selected source's poll; a peer's offset is chronyc's adjusted
 * last offset, its jitter the source's standard deviation, its delay and dispersion
 * chronyc ntpdata's peer delay and dispersion. Polls below 1 s (chrony's negative minpoll)
 * read as 0 in ppoll and hpoll: ntpd's polls are never negative and ntpq fails on them.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";
import { instantToNtp64 } from "../../ntp/timestamp.ts";
import type { NtpDataReport, SourceReport, SourceState, TrackingReport } from "../reports.ts";
import { rootDispersionAt } from "../server.ts";
import type { ReferenceState } from "../types.ts";

/** One association as mode 6 shows it. */
export interface Mode6Peer {
  /** The association ID (1-65535), stable for the source's life. */
  associationId: number;
  /** chronyc `sources` row of the source. */
  source: SourceReport;
  /** chronyc `ntpdata` of the source (also defined for refclocks), or null. */
  ntp: NtpDataReport | null;
  /** Standard deviation of the source's samples (sourcestats), seconds, or null. */
  stdDev: number | null;
}

/** What the responder reads, taken once per answered request. */
export interface Mode6Snapshot {
  /** The time served now (cooked, smoothed where smoothtime is on). */
  now: Instant;
  /** The reference state the NTP server announces. */
  reference: ReferenceState;
  /** chronyc `tracking`. */
  tracking: TrackingReport;
  /** The associations (sources), in the engine's order. */
  peers: Mode6Peer[];
  /** `version` string, e.g. "tempus 0.1.0". */
  version: string;
  /** `system` (operating system) and `processor` strings. */
  system: string;
  /** Processor architecture. */
  processor: string;
}

/** The association ID of engine source `id` (1-65535). */
export function associationIdOf(sourceId: number): number {
  return ((Math.max(1, Math.trunc(sourceId)) - 1) % 65535) + 1;
}

/** `value` with `digits` decimals (ntpd's %.Nf); non-finite values read as 0. */
function fixed(value: number, digits: number): string {
  return (Number.isFinite(value) ? value : 0).toFixed(digits);
}

/** An instant as ntpd prints an l_fp: `0x%08x.%08x` (0 stays all zeros). */
export function lfpText(t: Instant): string {
  if (t === 0n) return "0x00000000.00000000";
  const ts = instantToNtp64(t);
  const hi = Number(ts >> 32n).toString(16).padStart(8, "0");
  const lo = Number(ts & 0xffff_ffffn).toString(16).padStart(8, "0");
  return `0x${hi}.${lo}`;
}

/**
 * A reference ID as ntpd prints it: a dotted quad for strata 2-15, otherwise its characters
 * up to the first NUL with non-graphic ones as '.'.
 */
export function refIdText(refId: number, stratum: number): string {
  const bytes = [24, 16, 8, 0].map((s) => (refId >>> s) & 0xff);
  if (stratum > 1 && stratum < 16) return bytes.join(".");
  let text = "";
  for (const b of bytes) {
    if (b === 0) break;
    text += b > 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
  }
  return text;
}

/** A quoted string value (quotes, control and non-ASCII characters in it become '.'). */
function quoted(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || c > 0x7e || ch === '"' ? "." : ch;
  }
  return `"${out}"`;
}

/** ntpd's peer selection codes (RFC 9327 peer status word, low 3 bits of the high octet). */
const SELECTION: Record<SourceState, number> = {
  nonselectable: 0, // reject
  falseticker: 1, // x
  jittery: 3, // - (outlier: too variable to select)
  selectable: 3, // - (not combined)
  unselected: 4, // + (candidate, combined)
  selected: 6, // * (system peer)
};

/** The peer status word: configured, auth bits, reach and selection code; no events. */
export function peerStatusWord(peer: Mode6Peer): number {
  let bits = 0x80; // every tempus source is configured
  if (peer.ntp?.authenticated) bits |= 0x40 | 0x20;
  if (peer.source.reachability !== 0) bits |= 0x10;
  bits |= SELECTION[peer.source.state];
  return bits << 8;
}

/** The selected association, if any. */
export function systemPeer(snapshot: Mode6Snapshot): Mode6Peer | null {
  return snapshot.peers.find((p) => p.source.state === "selected") ?? null;
}

/**
 * The system status word: leap, the kind of synchronisation source (6 NTP, 5 local
 * reference, 1 PPS, 4 other refclocks, 0 none), no events.
 */
export function systemStatusWord(snapshot: Mode6Snapshot): number {
  const ref = snapshot.reference;
  const peer = systemPeer(snapshot);
  let source = 0;
  if (ref.synchronised) {
    if (peer === null) source = 5;
    else if (peer.source.mode === "refclock") source = peer.source.address === "PPS" ? 1 : 4;
    else source = 6;
  }
  return ((ref.leap & 3) << 14) | (source << 8);
}

/** What a system variable's value is read from. */
interface SystemView {
  /** The snapshot. */
  s: Mode6Snapshot;
  /** Its reference state. */
  ref: ReferenceState;
  /** The selected association, if any. */
  peer: Mode6Peer | null;
  /** The root dispersion now, seconds. */
  rootDisp: number;
}

/** The system variables tempus has, in the order ntpd sends its defaults. */
const SYSTEM: Record<string, (v: SystemView) => string> = {
  leap: ({ ref }) => String(ref.leap & 3),
  stratum: ({ ref }) => String(ref.stratum),
  precision: ({ ref }) => String(ref.precisionLog2),
  rootdelay: ({ ref }) => fixed(ref.rootDelay * 1e3, 3),
  rootdisp: ({ rootDisp }) => fixed(rootDisp * 1e3, 3),
  rootdist: ({ ref, rootDisp }) => fixed((ref.rootDelay / 2 + rootDisp) * 1e3, 3),
  refid: ({ ref }) => refIdText(ref.refId, ref.stratum),
  reftime: ({ ref }) => lfpText(ref.refTime),
  tc: ({ s, peer }) => {
    if (peer !== null) return String(peer.source.poll);
    const polls = s.peers.map((p) => p.source.poll);
    return String(polls.length > 0 ? Math.min(...polls) : 6);
  },
  peer: ({ peer }) => String(peer?.associationId ?? 0),
  offset: ({ s }) => fixed(s.tracking.lastOffset * 1e3, 6),
  frequency: ({ s }) => fixed(s.tracking.freqPpm, 3),
  sys_jitter: ({ peer }) => fixed((peer?.stdDev ?? 0) * 1e3, 6),
  clk_jitter: ({ s }) => fixed(s.tracking.rmsOffset * 1e3, 6),
  clock: ({ s }) => lfpText(s.now),
  processor: ({ s }) => quoted(s.processor),
  system: ({ s }) => quoted(s.system),
  version: ({ s }) => quoted(s.version),
  clk_wander: ({ s }) => fixed(s.tracking.skewPpm, 6),
};

/** System variables in the order ntpd sends its defaults. */
export const SYSTEM_VARIABLES: readonly string[] = Object.keys(SYSTEM);

/** The value text of system variable `name`, or null if tempus has no such variable. */
export function systemVariable(name: string, s: Mode6Snapshot): string | null {
  if (!Object.hasOwn(SYSTEM, name)) return null;
  const ref = s.reference;
  const rootDisp = ref.synchronised ? rootDispersionAt(ref, s.now) : ref.rootDispersion;
  return SYSTEM[name]({ s, ref, peer: systemPeer(s), rootDisp });
}

/** ntpd's flash bits for chrony's tests 1,2,3,5,6,7 and A-D (bits 0-9 of `tests`, 1 = passed). */
function flashBits(tests: number): number {
  const failed = (bit: number) => (tests & (1 << bit)) === 0;
  let flash = 0;
  if (failed(0)) flash |= 0x1; // duplicate
  if (failed(1)) flash |= 0x2; // bogus origin
  if (failed(2)) flash |= 0x4; // unsynchronised / invalid timestamps
  if (failed(3)) flash |= 0x10; // authentication
  if (failed(4)) flash |= 0x20; // leap / stratum
  if (failed(5)) flash |= 0x40; // header (root delay / dispersion)
  if (failed(6) || failed(7) || failed(8)) flash |= 0x400; // delay limits: peer_dist
  if (failed(9)) flash |= 0x800; // synchronised to us: peer_loop
  return flash;
}

/** What a peer variable's value is read from. */
interface PeerView {
  /** The association. */
  peer: Mode6Peer;
  /** Its `sources` row. */
  src: SourceReport;
  /** Its `ntpdata`, or null. */
  ntp: NtpDataReport | null;
  /** True for a reference clock. */
  refclock: boolean;
  /** The time served now. */
  now: Instant;
}

/**
 * The peer variables tempus has values for, in the order ntpd sends its defaults; a null
 * value is a field a source of this kind does not have.
 */
const PEER: Record<string, (v: PeerView) => string | null> = {
  srcadr: ({ src, refclock }) => refclock ? null : src.address,
  srcport: ({ ntp, refclock }) => refclock || ntp === null ? null : String(ntp.remotePort),
  // "0.0.0.0" / "::" stand for an unknown local address: left out
  dstadr: ({ ntp, refclock }) =>
    refclock || ntp === null || /^(0\.0\.0\.0|::)$/.test(ntp.localAddress)
      ? null
      : ntp.localAddress,
  leap: ({ ntp }) => ntp === null ? null : String(ntp.leap & 3),
  hmode: ({ src }) => src.mode === "peer" ? "1" : "3",
  stratum: ({ src, ntp }) => String(ntp?.stratum ?? src.stratum),
  ppoll: ({ src, ntp, refclock }) =>
    String(Math.max(0, ntp !== null && ntp.totalValidRx > 0 && !refclock ? ntp.poll : src.poll)),
  hpoll: ({ src }) => String(Math.max(0, src.poll)),
  precision: ({ ntp }) => ntp === null ? null : String(ntp.precision),
  rootdelay: ({ ntp }) => ntp === null ? null : fixed(ntp.rootDelay * 1e3, 3),
  rootdisp: ({ ntp }) => ntp === null ? null : fixed(ntp.rootDispersion * 1e3, 3),
  refid: ({ ntp, refclock }) => {
    if (ntp === null) return null;
    if (!refclock && ntp.totalValidRx === 0 && ntp.refId === 0) return "INIT";
    return refIdText(ntp.refId, refclock ? 0 : ntp.stratum);
  },
  reftime: ({ ntp }) => ntp === null ? null : lfpText(ntp.refTime),
  rec: ({ src, now }) =>
    src.sinceSample === null
      ? lfpText(0n)
      : lfpText(now - BigInt(Math.round(src.sinceSample * 1e9))),
  reach: ({ src }) => `0x${(src.reachability & 0xff).toString(16)}`,
  delay: ({ ntp }) => ntp === null ? null : fixed(ntp.peerDelay * 1e3, 6),
  offset: ({ src }) => fixed(src.latestOffset * 1e3, 6),
  jitter: ({ peer }) => fixed((peer.stdDev ?? 0) * 1e3, 6),
  dispersion: ({ ntp }) => ntp === null ? null : fixed(ntp.peerDispersion * 1e3, 6),
  pmode: ({ ntp, refclock }) => ntp === null || refclock ? null : String(ntp.mode),
  flash: ({ ntp, refclock }) =>
    !refclock && ntp !== null && ntp.totalRx > 0 ? `0x${flashBits(ntp.tests).toString(16)}` : null,
  srchost: ({ src, refclock }) => {
    if (refclock) return quoted(`refclock(${src.address})`);
    return src.name !== null && src.name !== src.address ? quoted(src.name) : null;
  },
};

/** Peer variables in the order ntpd sends its defaults (those tempus has values for). */
export const PEER_VARIABLES: readonly string[] = Object.keys(PEER);

/**
 * The value text of peer variable `name` for `peer`, or null when tempus has no value for it
 * (unknown name, or a field a source of this kind does not have).
 */
export function peerVariable(name: string, peer: Mode6Peer, now: Instant): string | null {
  if (!Object.hasOwn(PEER, name)) return null;
  const src = peer.source;
  return PEER[name]({ peer, src, ntp: peer.ntp, refclock: src.mode === "refclock", now });
}
