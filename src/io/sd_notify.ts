/**
 * systemd readiness notification (sd_notify): sends "READY=1" and status lines to the
 * datagram socket named by $NOTIFY_SOCKET, when there is one. Abstract-namespace sockets
 * ("@name") are not reachable through Deno's API and are reported as unsupported.
 *
 * @module
 */

/** Sends one notification; returns false when not under systemd or when sending failed. */
export async function sdNotify(state: string, socketPath = Deno.env.get("NOTIFY_SOCKET")): Promise<
  boolean
> {
  if (!socketPath || socketPath.startsWith("@")) return false;
  const dir = await Deno.makeTempDir({ prefix: "tempus-notify-" });
  const localPath = `${dir}/sock`;
  let socket: Deno.DatagramConn | null = null;
  try {
    socket = Deno.listenDatagram({ transport: "unixpacket", path: localPath });
    await socket.send(new TextEncoder().encode(state), {
      transport: "unixpacket",
      path: socketPath,
    });
    return true;
  } catch {
    return false;
  } finally {
    socket?.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
