/**
 * Request data layouts of chrony's command protocol (candm.h, version 6), by request code,
 * and the typed request each code carries (`RequestData`, `TypedRequest`). The client
 * encodes and the server decodes with the same layouts.
 *
 * @module
 */
import { REQ } from "./constants.ts";
import { layout, type LayoutValue } from "./layout.ts";

const ADDR_VALUE_I32 = layout({ address: "ip", value: "i32" });
const ADDR_VALUE_FLOAT = layout({ address: "ip", value: "float" });
const MASK_ADDR = layout({ mask: "ip", address: "ip" });
const ALLOW_DENY = layout({ ip: "ip", subnetBits: "i32" });
const ONE_IP = layout({ ip: "ip" });
const INDEX_I32 = layout({ index: "i32" });
const INDEX_U32 = layout({ index: "u32" });
const ONE_FLOAT = layout({ value: "float" });
const NONE = layout({});

/** REQ_NTP_Source (ADD_SOURCE). */
const NTP_SOURCE_LAYOUT = layout({
  type: "u32",
  name: { string: 256 },
  port: "u32",
  minpoll: "i32",
  maxpoll: "i32",
  presendMinpoll: "i32",
  minStratum: "u32",
  pollTarget: "u32",
  version: "u32",
  maxSources: "u32",
  minSamples: "i32",
  maxSamples: "i32",
  authkey: "u32",
  ntsPort: "u32",
  maxDelay: "float",
  maxDelayRatio: "float",
  maxDelayDevRatio: "float",
  minDelay: "float",
  asymmetry: "float",
  offset: "float",
  flags: "u32",
  filterLength: "i32",
  certSet: "u32",
  maxDelayQuant: "float",
  maxUnreach: "i32",
});

const LOCAL2 = layout({ onOff: "i32", stratum: "i32", distance: "float", orphan: "i32" });

/** Request data layouts by request code; a code absent here is unknown (STT_INVALID). */
export const REQUEST_LAYOUTS = {
  [REQ.NULL]: NONE,
  [REQ.ONLINE]: MASK_ADDR,
  [REQ.OFFLINE]: MASK_ADDR,
  [REQ.BURST]: layout({ ...MASK_ADDR, nGoodSamples: "i32", nTotalSamples: "i32" }),
  [REQ.MODIFY_MINPOLL]: ADDR_VALUE_I32,
  [REQ.MODIFY_MAXPOLL]: ADDR_VALUE_I32,
  [REQ.DUMP]: layout({ pad: "i32" }),
  [REQ.MODIFY_MAXDELAY]: ADDR_VALUE_FLOAT,
  [REQ.MODIFY_MAXDELAYRATIO]: ADDR_VALUE_FLOAT,
  [REQ.MODIFY_MAXUPDATESKEW]: ONE_FLOAT,
  [REQ.SETTIME]: layout({ ts: "timespec" }),
  [REQ.MANUAL]: layout({ option: "i32" }),
  [REQ.N_SOURCES]: NONE,
  [REQ.SOURCE_DATA]: INDEX_I32,
  [REQ.REKEY]: NONE,
  [REQ.ALLOW]: ALLOW_DENY,
  [REQ.ALLOWALL]: ALLOW_DENY,
  [REQ.DENY]: ALLOW_DENY,
  [REQ.DENYALL]: ALLOW_DENY,
  [REQ.CMDALLOW]: ALLOW_DENY,
  [REQ.CMDALLOWALL]: ALLOW_DENY,
  [REQ.CMDDENY]: ALLOW_DENY,
  [REQ.CMDDENYALL]: ALLOW_DENY,
  [REQ.ACCHECK]: ONE_IP,
  [REQ.CMDACCHECK]: ONE_IP,
  [REQ.DEL_SOURCE]: ONE_IP,
  [REQ.WRITERTC]: NONE,
  [REQ.DFREQ]: ONE_FLOAT,
  [REQ.TRACKING]: NONE,
  [REQ.SOURCESTATS]: INDEX_U32,
  [REQ.RTCREPORT]: NONE,
  [REQ.TRIMRTC]: NONE,
  [REQ.CYCLELOGS]: NONE,
  [REQ.MANUAL_LIST]: NONE,
  [REQ.MANUAL_DELETE]: INDEX_I32,
  [REQ.MAKESTEP]: NONE,
  [REQ.ACTIVITY]: NONE,
  [REQ.MODIFY_MINSTRATUM]: ADDR_VALUE_I32,
  [REQ.MODIFY_POLLTARGET]: ADDR_VALUE_I32,
  [REQ.MODIFY_MAXDELAYDEVRATIO]: ADDR_VALUE_FLOAT,
  [REQ.RESELECT]: NONE,
  [REQ.RESELECTDISTANCE]: ONE_FLOAT,
  [REQ.MODIFY_MAKESTEP]: layout({ limit: "i32", threshold: "float" }),
  [REQ.SMOOTHING]: NONE,
  [REQ.SMOOTHTIME]: layout({ option: "i32" }),
  [REQ.REFRESH]: NONE,
  [REQ.SERVER_STATS]: NONE,
  [REQ.LOCAL2]: LOCAL2,
  [REQ.NTP_DATA]: ONE_IP,
  [REQ.SHUTDOWN]: NONE,
  [REQ.ONOFFLINE]: NONE,
  [REQ.ADD_SOURCE]: NTP_SOURCE_LAYOUT,
  [REQ.NTP_SOURCE_NAME]: ONE_IP,
  [REQ.RESET_SOURCES]: NONE,
  [REQ.AUTH_DATA]: ONE_IP,
  [REQ.CLIENT_ACCESSES_BY_INDEX3]: layout({
    firstIndex: "u32",
    nClients: "u32",
    minHits: "u32",
    reset: "u32",
  }),
  [REQ.SELECT_DATA]: INDEX_U32,
  [REQ.RELOAD_SOURCES]: NONE,
  [REQ.DOFFSET2]: ONE_FLOAT,
  [REQ.MODIFY_SELECTOPTS]: layout({ address: "ip", refId: "u32", mask: "u32", options: "u32" }),
  [REQ.MODIFY_OFFSET]: layout({ address: "ip", refId: "u32", value: "float" }),
  [REQ.LOCAL3]: layout({
    ...LOCAL2,
    activate: "float",
    waitSynced: "float",
    waitUnsynced: "float",
  }),
} as const;

/** A request code tempus knows (a key of `REQUEST_LAYOUTS`). */
export type RequestCode = keyof typeof REQUEST_LAYOUTS;

/** The data a request of code `C` carries. */
export type RequestData<C extends RequestCode> = LayoutValue<(typeof REQUEST_LAYOUTS)[C]>;

/** ADD_SOURCE request data. */
export type AddSourceData = RequestData<typeof REQ.ADD_SOURCE>;

/** A decoded request: its code and its data, narrowed together by `command`. */
export type TypedRequest = {
  [C in RequestCode]: { command: C; data: RequestData<C> };
}[RequestCode];

/** Whether `command` is a request code tempus knows. */
export function isRequestCode(command: number): command is RequestCode {
  return Object.hasOwn(REQUEST_LAYOUTS, command);
}
