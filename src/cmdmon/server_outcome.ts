/**
 * What a command handler produces (a reply code with its typed data and a status) and the
 * small conversions every handler shares: engine results to chrony statuses, wire
 * addresses to tempus address text.
 *
 * @module
 */
import type { ControlResult } from "../core/control.ts";
import { RPY, STT } from "./constants.ts";
import { formatIpAddr, type IpAddr, IPADDR_INET4, IPADDR_INET6 } from "./ip_addr.ts";
import type { ReplyBody } from "./replies.ts";

/** What a handler produced: the reply code and its data, and the status. */
export type Outcome = ReplyBody & {
  /** STT_* code. */
  status: number;
};

/** A status-only reply. */
export function status(stt: number): Outcome {
  return { reply: RPY.NULL, data: {}, status: stt };
}

/** STT_SUCCESS without data. */
export const OK: Outcome = status(STT.SUCCESS);

const STATUS_OF: Readonly<Record<Exclude<ControlResult, { ok: true }>["status"], number>> = {
  failed: STT.FAILED,
  invalid: STT.INVALID,
  nosuchsource: STT.NOSUCHSOURCE,
  invalidts: STT.INVALIDTS,
  notenabled: STT.NOTENABLED,
  badsubnet: STT.BADSUBNET,
  sourcealreadyknown: STT.SOURCEALREADYKNOWN,
  toomanysources: STT.TOOMANYSOURCES,
  nortc: STT.NORTC,
  badrtcfile: STT.BADRTCFILE,
  inactive: STT.INACTIVE,
  badsample: STT.BADSAMPLE,
  invalidname: STT.INVALIDNAME,
};

/** An engine result as a status-only reply. */
export function fromResult(result: ControlResult): Outcome {
  if (result.ok) return OK;
  return status(STATUS_OF[result.status] ?? STT.FAILED);
}

/** Whether an IpAddr is a real IPv4/IPv6 address. */
export function isRealIp(ip: IpAddr): boolean {
  return ip.family === IPADDR_INET4 || ip.family === IPADDR_INET6;
}

/** A real IPv4/IPv6 address as tempus address text, else null (unspecified, refid). */
export function addressText(ip: IpAddr): string | null {
  return isRealIp(ip) ? formatIpAddr(ip) : null;
}
