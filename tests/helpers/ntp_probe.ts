/**
 * Test helper, run as a program (`deno run --unstable-net ntp_probe.ts ADDRESS [PORT]`): sends
 * one NTP client request and prints what the server announces as one JSON line - mode, leap,
 * stratum, reference ID (dotted quad) - whether or not it is synchronised (tempus query
 * rejects unsynchronised replies; tests reading a peer's choice need them too). Prints
 * `{"ok":false}` when nothing answers within 3 s.
 *
 * @module
 */
const [address, portText] = Deno.args;
const socket = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
const request = new Uint8Array(48);
request[0] = (4 << 3) | 3;
crypto.getRandomValues(request.subarray(40));
const timer = setTimeout(() => socket.close(), 3000);
try {
  await socket.send(request, {
    transport: "udp",
    hostname: address,
    port: Number(portText ?? 123),
  });
  const [reply] = await socket.receive();
  const refId = [12, 13, 14, 15].map((i) => reply[i]).join(".");
  console.log(JSON.stringify({
    ok: true,
    mode: reply[0] & 7,
    leap: reply[0] >> 6,
    stratum: reply[1],
    refId,
  }));
} catch {
  console.log(JSON.stringify({ ok: false }));
} finally {
  clearTimeout(timer);
  try {
    socket.close();
  } catch {
    // closed by the timer
  }
}
