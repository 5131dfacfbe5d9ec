/**
 * A plain NTP client query for tests: one mode-3 request to HOST:123, the answer's stratum
 * and reference ID as text (what a stratum-1 server names its reference clock).
 *
 * @module
 */

/** A plain NTP client query: stratum and reference ID text of the answer. */
export async function ntpQuery(host: string): Promise<{ stratum: number; refId: string }> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const req = new Uint8Array(48);
    req[0] = (4 << 3) | 3;
    await sock.send(req, { transport: "udp", hostname: host, port: 123 });
    const timer = setTimeout(() => sock.close(), 3000);
    const [reply] = await sock.receive();
    clearTimeout(timer);
    const refId = new TextDecoder().decode(reply.subarray(12, 16)).replace(/\0+$/, "");
    return { stratum: reply[1], refId };
  } finally {
    try {
      sock.close();
    } catch { /* closed by the timer */ }
  }
}
