/**
 * Runs `tempus daemon ARGS...` in this process (as the launcher would, same flags) and,
 * once it is up, tries what the sandbox must refuse, from inside the running daemon:
 * reading and writing files its configuration does not name, opening sockets it was not
 * configured for, running programs, reading other environment variables. Prints one
 * `PROBE {json}` line and exits.
 *
 * Usage (flags from `tempus permissions daemon ARGS...`):
 *   deno run --unstable-net FLAGS sandbox_probe.ts SECRET OUTSIDE_DIR DRIFT -- daemon ARGS...
 *
 * @module
 */
import { main } from "../../cli/main.ts";

type Outcome = "ok" | "NotCapable" | string;

async function attempt(f: () => unknown): Promise<Outcome> {
  try {
    await f();
    return "ok";
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return "NotCapable";
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

const [secret, outside, driftFile, sep, ...daemonArgs] = Deno.args;
if (sep !== "--") throw new Error("usage: sandbox_probe.ts SECRET OUTSIDE DRIFT -- daemon ARGS...");
let exited: number | null = null;
main(daemonArgs).then((code) => exited = code);
await new Promise((r) => setTimeout(r, 1500));

const result: Record<string, Outcome | number | null> = {
  daemonExited: exited,
  readSecret: await attempt(() => Deno.readTextFileSync(secret)),
  readEtcShadow: await attempt(() => Deno.readTextFileSync("/etc/shadow")),
  writeOutside: await attempt(() => Deno.writeTextFileSync(`${outside}/planted`, "x")),
  listOutside: await attempt(() => [...Deno.readDirSync(outside)]),
  readDriftDir: await attempt(() => Deno.statSync(driftFile.replace(/\/[^/]*$/, ""))),
  listenUdpAny: await attempt(() =>
    Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 }).close()
  ),
  listenUdpLoopback: await attempt(() =>
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }).close()
  ),
  connectTcp: await attempt(async () =>
    (await Deno.connect({ hostname: "192.0.2.1", port: 80 })).close()
  ),
  listenTcp: await attempt(() => Deno.listen({ hostname: "0.0.0.0", port: 0 }).close()),
  runProgram: await attempt(() => new Deno.Command("/bin/true").outputSync()),
  envHome: await attempt(() => Deno.env.get("HOME")),
  envNotify: await attempt(() => Deno.env.get("NOTIFY_SOCKET")),
  sysHostname: await attempt(() => Deno.hostname()),
};
console.log(`PROBE ${JSON.stringify(result)}`);
Deno.exit(0);
