/**
 * The command server's read-write commands (chronyc's control commands, full access only):
 * each typed request becomes one typed call on `EngineControl`, with tempus signs.
 *
 * @module
 */
import type { EngineControl, SourceMatch } from "../core/control.ts";
import {
  addSourceOptions,
  addSourceType,
  SOURCE_MODIFIERS,
  unsupportedAddSourceOption,
} from "./add_source.ts";
import { REQ, REQUEST_HEADER_LENGTH, RPY, STT } from "./constants.ts";
import { formatIpAddr, type IpAddr, IPADDR_UNSPEC } from "./ip_addr.ts";
import type { AddSourceData, RequestData, TypedRequest } from "./requests.ts";
import { addressText, fromResult, OK, type Outcome, status } from "./server_outcome.ts";
import { manualTimestampToWire } from "./wire_reports.ts";

function ipText(addr: IpAddr): string | null {
  return addr.family === IPADDR_UNSPEC ? null : formatIpAddr(addr);
}

function sourceMatch(data: RequestData<typeof REQ.ONLINE>): SourceMatch {
  const address = ipText(data.address);
  const mask = ipText(data.mask);
  return { address, mask: address === null ? null : mask };
}

function subnet(data: RequestData<typeof REQ.ALLOW>): string | null {
  const addr = ipText(data.ip);
  if (addr === null) return null;
  return `${addr}/${data.subnetBits}`;
}

/** Offset of the last byte of ADD_SOURCE's 256-byte name in the request. */
const NAME_LAST_BYTE = REQUEST_HEADER_LENGTH + 4 + 255;

function addSource(data: AddSourceData, control: EngineControl, raw: Uint8Array): Outcome {
  const type = addSourceType(data);
  if (type === null) return status(STT.INVALID);
  // The name must be NUL-terminated inside its 256 bytes.
  if (raw[NAME_LAST_BYTE] !== 0) return status(STT.INVALIDNAME);
  const name = data.name;
  if (name.length === 0 || !/^[\x21-\x7e]+$/.test(name)) return status(STT.INVALIDNAME);
  // Never run a source without an option it was asked for (nts, copy, ipv4, ...).
  if (unsupportedAddSourceOption(data) !== null) return status(STT.INVALID);
  const options = addSourceOptions(data);
  // chrony resolves names asynchronously and answers at once; so do we. What is known at
  // once (an address already in use: 511, a bad option) is answered.
  const result = control.addSource({ type, name, port: data.port, options });
  if (result instanceof Promise) {
    result.catch(() => {});
    return OK;
  }
  return fromResult(result);
}

function settime(data: RequestData<typeof REQ.SETTIME>, control: EngineControl): Outcome {
  const result = control.setTime(data.ts);
  if (!result.ok) return fromResult(result);
  const report = "report" in result ? result.report : { offset: 0, dfreqPpm: 0, newFreqPpm: 0 };
  return { reply: RPY.MANUAL_TIMESTAMP2, status: STT.SUCCESS, data: manualTimestampToWire(report) };
}

const MANUAL_MODES = ["off", "on", "reset"] as const;

/**
 * Runs a read-write command (full access only). Returns null if the request is not one.
 * `raw` is the whole request packet (ADD_SOURCE checks its name's terminating NUL).
 */
export function runControlCommand(
  request: TypedRequest,
  control: EngineControl,
  raw: Uint8Array,
): Outcome | null {
  switch (request.command) {
    case REQ.ADD_SOURCE:
      return addSource(request.data, control, raw);
    case REQ.ALLOW:
    case REQ.ALLOWALL:
    case REQ.DENY:
    case REQ.DENYALL: {
      const c = request.command;
      return fromResult(
        control.ntpAccess(
          subnet(request.data),
          c === REQ.ALLOW || c === REQ.ALLOWALL,
          c === REQ.ALLOWALL || c === REQ.DENYALL,
        ),
      );
    }
    case REQ.CMDALLOW:
    case REQ.CMDALLOWALL:
    case REQ.CMDDENY:
    case REQ.CMDDENYALL: {
      const c = request.command;
      return fromResult(
        control.cmdAccess(
          subnet(request.data),
          c === REQ.CMDALLOW || c === REQ.CMDALLOWALL,
          c === REQ.CMDALLOWALL || c === REQ.CMDDENYALL,
        ),
      );
    }
    case REQ.BURST: {
      const d = request.data;
      return fromResult(control.burst(sourceMatch(d), d.nGoodSamples, d.nTotalSamples));
    }
    case REQ.CYCLELOGS:
      return fromResult(control.cycleLogs());
    case REQ.DEL_SOURCE: {
      const address = addressText(request.data.ip);
      if (address === null) return status(STT.NOSUCHSOURCE);
      return fromResult(control.deleteSource(address));
    }
    case REQ.DFREQ:
      return fromResult(control.adjustFrequency(-request.data.value));
    case REQ.DOFFSET2:
      return fromResult(control.adjustOffset(-request.data.value));
    case REQ.DUMP:
      return fromResult(control.dump());
    case REQ.LOCAL2:
    case REQ.LOCAL3: {
      const d = request.data;
      return fromResult(
        d.onOff !== 0
          ? control.local(true, d.stratum, d.distance, d.orphan !== 0)
          : control.local(false),
      );
    }
    case REQ.MAKESTEP:
      return fromResult(control.makeStepNow());
    case REQ.MANUAL: {
      const mode = MANUAL_MODES[request.data.option];
      return mode === undefined ? status(STT.INVALID) : fromResult(control.manual(mode));
    }
    case REQ.MANUAL_DELETE:
      return fromResult(control.manualDelete(request.data.index));
    case REQ.MODIFY_MAKESTEP:
      return fromResult(control.modifyMakeStep(request.data.threshold, request.data.limit));
    case REQ.MODIFY_MAXUPDATESKEW:
      return fromResult(control.maxUpdateSkew(request.data.value));
    case REQ.MODIFY_MINPOLL:
    case REQ.MODIFY_MAXPOLL:
    case REQ.MODIFY_MAXDELAY:
    case REQ.MODIFY_MAXDELAYRATIO:
    case REQ.MODIFY_MAXDELAYDEVRATIO:
    case REQ.MODIFY_MINSTRATUM:
    case REQ.MODIFY_POLLTARGET:
    case REQ.MODIFY_OFFSET: {
      const address = addressText(request.data.address);
      if (address === null) return status(STT.NOSUCHSOURCE);
      const param = SOURCE_MODIFIERS[request.command];
      return fromResult(control.modifySource(address, param, request.data.value));
    }
    case REQ.MODIFY_SELECTOPTS:
      return status(STT.INVALID);
    case REQ.OFFLINE:
    case REQ.ONLINE:
      return fromResult(
        control.setConnectivity(sourceMatch(request.data), request.command === REQ.ONLINE),
      );
    case REQ.ONOFFLINE:
      return fromResult(control.onOffline());
    case REQ.REFRESH:
      return fromResult(control.refresh());
    case REQ.REKEY:
      return control.rekey ? fromResult(control.rekey()) : status(STT.FAILED);
    case REQ.RELOAD_SOURCES:
      return control.reloadSources ? fromResult(control.reloadSources()) : status(STT.FAILED);
    case REQ.RESELECT:
      return fromResult(control.reselect());
    case REQ.RESELECTDISTANCE:
      return fromResult(control.reselectDistance(request.data.value));
    case REQ.RESET_SOURCES:
      return fromResult(control.resetSources());
    case REQ.SETTIME:
      return settime(request.data, control);
    case REQ.SHUTDOWN:
      return fromResult(control.shutdown());
    case REQ.SMOOTHTIME: // 0 reset, 1 activate (ops: smoothtime)
      return control.smoothTime
        ? fromResult(control.smoothTime(request.data.option === 1 ? "activate" : "reset"))
        : status(STT.NOTENABLED);
    case REQ.TRIMRTC:
      return fromResult(control.trimRtc());
    case REQ.WRITERTC:
      return fromResult(control.writeRtc());
    default:
      return null;
  }
}
