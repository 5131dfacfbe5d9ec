/**
 * The command server's read-only commands (reports and access checks): each asks
 * `EngineControl` for a tempus report and answers with its typed wire form (wire_reports.ts).
 * ntpdata and serverstats answer chrony 4.3's shorter requests with the older reply form.
 *
 * @module
 */
import type { AuthDataReport, EngineControl } from "../core/control.ts";
import { REQ, RPY, STT } from "./constants.ts";
import { replyLength } from "./messages.ts";
import type { ClientData } from "./replies.ts";
import type { RequestData, TypedRequest } from "./requests.ts";
import { smoothingToWire } from "./smoothing_report.ts";
import { addressText, OK, type Outcome, status } from "./server_outcome.ts";
import {
  activityToWire,
  clientToWire,
  manualSampleToWire,
  ntpDataToWire,
  rtcToWire,
  selectDataToWire,
  serverStats3ToWire,
  serverStats4ToWire,
  sourceStatsToWire,
  sourceToWire,
  trackingToWire,
} from "./wire_reports.ts";

/** An unauthenticated source's authdata (chrony: mode none, last NTS-KE never). */
const NO_AUTH: AuthDataReport = {
  mode: "none",
  keyId: 0,
  keyType: 0,
  keyLengthBits: 0,
  keAttempts: 0,
  lastKeAgo: null,
  cookies: 0,
  cookieLength: 0,
  nak: 0,
};

/** chrony's RPY_AD_MD_* codes. */
const AUTH_MODES = { none: 0, symmetric: 1, nts: 2 } as const;

function authDataToWire(r: AuthDataReport) {
  return {
    mode: AUTH_MODES[r.mode],
    keyType: r.keyType,
    keyId: r.keyId,
    keyLength: r.keyLengthBits,
    keAttempts: r.keAttempts,
    // chrony sends (uint32_t)-1 for "never", which chronyc prints as "-".
    lastKeAgo: r.lastKeAgo === null ? 0xffffffff : Math.min(0xfffffffe, Math.floor(r.lastKeAgo)),
    cookies: r.cookies,
    cookieLength: r.cookieLength,
    nak: r.nak,
    pad: 0,
  };
}

function byIndex<T>(list: T[], index: number): T | null {
  return Number.isInteger(index) && index >= 0 && index < list.length ? list[index] : null;
}

/** Entries of one CLIENT_ACCESSES_BY_INDEX3 reply. */
const CLIENTS_PER_REPLY = 8;
/** Samples of one MANUAL_LIST2 reply. */
const MANUAL_SAMPLES_PER_REPLY = 16;

function clients(
  request: RequestData<typeof REQ.CLIENT_ACCESSES_BY_INDEX3>,
  control: EngineControl,
): Outcome {
  const all = control.clients();
  const wanted = Math.min(request.nClients, CLIENTS_PER_REPLY);
  const out: ClientData[] = [];
  let i = request.firstIndex;
  for (; i < all.length && out.length < wanted; i++) {
    const c = all[i];
    if (c.ntpHits + c.cmdHits < request.minHits) continue;
    out.push(clientToWire(c));
  }
  return {
    reply: RPY.CLIENT_ACCESSES_BY_INDEX3,
    status: STT.SUCCESS,
    data: { nIndices: all.length, nextIndex: i, nClients: out.length, clients: out },
  };
}

/**
 * Runs a read-only command. Returns null if the request is not one. `requestLength` picks
 * the reply form of ntpdata and serverstats.
 */
export function runReportCommand(
  request: TypedRequest,
  control: EngineControl,
  requestLength: number,
): Outcome | null {
  switch (request.command) {
    case REQ.NULL:
      return OK;
    case REQ.ACCHECK:
    case REQ.CMDACCHECK: {
      const address = addressText(request.data.ip);
      if (address === null) return status(STT.ACCESSDENIED);
      const allowed = request.command === REQ.ACCHECK
        ? control.ntpAccessCheck(address)
        : control.cmdAccessCheck(address);
      return status(allowed ? STT.ACCESSALLOWED : STT.ACCESSDENIED);
    }
    case REQ.ACTIVITY:
      return { reply: RPY.ACTIVITY, status: STT.SUCCESS, data: activityToWire(control.activity()) };
    case REQ.AUTH_DATA: {
      const address = addressText(request.data.ip);
      const known = address !== null && control.sources().some((s) => s.address === address);
      if (!known) return status(STT.NOSUCHSOURCE);
      const report = control.authData ? control.authData(address) : NO_AUTH;
      if (report === null) return status(STT.NOSUCHSOURCE);
      return { reply: RPY.AUTH_DATA, status: STT.SUCCESS, data: authDataToWire(report) };
    }
    case REQ.CLIENT_ACCESSES_BY_INDEX3:
      return clients(request.data, control);
    case REQ.MANUAL_LIST: {
      const samples = control.manualList().slice(0, MANUAL_SAMPLES_PER_REPLY);
      return {
        reply: RPY.MANUAL_LIST2,
        status: STT.SUCCESS,
        data: { nSamples: samples.length, samples: samples.map(manualSampleToWire) },
      };
    }
    case REQ.NTP_DATA: {
      const address = addressText(request.data.ip);
      const report = address === null ? null : control.ntpData(address);
      if (report === null) return status(STT.NOSUCHSOURCE);
      const data = ntpDataToWire(report);
      return requestLength >= replyLength(RPY.NTP_DATA2)
        ? { reply: RPY.NTP_DATA2, status: STT.SUCCESS, data }
        : { reply: RPY.NTP_DATA, status: STT.SUCCESS, data };
    }
    case REQ.NTP_SOURCE_NAME: {
      const address = addressText(request.data.ip);
      const name = address === null ? null : control.sourceName(address);
      if (name === null) return status(STT.NOSUCHSOURCE);
      return { reply: RPY.NTP_SOURCE_NAME, status: STT.SUCCESS, data: { name } };
    }
    case REQ.N_SOURCES:
      return {
        reply: RPY.N_SOURCES,
        status: STT.SUCCESS,
        data: { nSources: control.sources().length },
      };
    case REQ.RTCREPORT: {
      const report = control.rtcReport();
      if (report === null) return status(STT.NORTC);
      return { reply: RPY.RTC, status: STT.SUCCESS, data: rtcToWire(report) };
    }
    case REQ.SELECT_DATA: {
      const report = byIndex(control.selectData(), request.data.index);
      if (report === null) return status(STT.NOSUCHSOURCE);
      return { reply: RPY.SELECT_DATA, status: STT.SUCCESS, data: selectDataToWire(report) };
    }
    case REQ.SERVER_STATS: {
      const report = control.serverStats();
      return requestLength >= replyLength(RPY.SERVER_STATS4)
        ? { reply: RPY.SERVER_STATS4, status: STT.SUCCESS, data: serverStats4ToWire(report) }
        : { reply: RPY.SERVER_STATS3, status: STT.SUCCESS, data: serverStats3ToWire(report) };
    }
    case REQ.SMOOTHING: { // ops: smoothtime (cmdmon/smoothing_report.ts)
      const report = control.smoothing?.() ?? null;
      if (report === null) return status(STT.NOTENABLED);
      return { reply: RPY.SMOOTHING, status: STT.SUCCESS, data: smoothingToWire(report) };
    }
    case REQ.SOURCESTATS: {
      const report = byIndex(control.sourceStats(), request.data.index);
      if (report === null) return status(STT.NOSUCHSOURCE);
      return { reply: RPY.SOURCESTATS, status: STT.SUCCESS, data: sourceStatsToWire(report) };
    }
    case REQ.SOURCE_DATA: {
      const report = byIndex(control.sources(), request.data.index);
      if (report === null) return status(STT.NOSUCHSOURCE);
      return { reply: RPY.SOURCE_DATA, status: STT.SUCCESS, data: sourceToWire(report) };
    }
    case REQ.TRACKING:
      return { reply: RPY.TRACKING, status: STT.SUCCESS, data: trackingToWire(control.tracking()) };
    default:
      return null;
  }
}
