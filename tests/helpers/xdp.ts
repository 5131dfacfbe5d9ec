/**
 * Test helper: whether the XDP responder can be loaded here (Linux, root: CAP_BPF and
 * CAP_NET_ADMIN), for the `ignore` of the tests that need the kernel's verifier.
 *
 * @module
 */
import { XdpResponder } from "../../src/io/xdp/xdp_responder.ts";

/** True when the program loads (and is closed again at once). */
export function xdpLoadable(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    XdpResponder.load().close();
    return true;
  } catch {
    return false;
  }
}
