/**
 * The manycast client edge (ntpd's manycastclient): per `manycastclient` line, a check every
 * 2^minpoll seconds (at least 4 s): associations unreachable for a whole register are
 * removed, and while fewer than `maxsources` remain the group is solicited from a fresh
 * UDP socket; the answers collected for two seconds are judged by core
 * (ManycastSolicitation) and the best become ordinary client associations of the engine.
 * Multicast TTL 1 (Deno's default): the group is solicited on the local segment only.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { ManycastClientConfig } from "../config/model_broadcast.ts";
import { manycastPlan, ManycastSolicitation } from "../core/source/manycast.ts";
import type { DaemonParts } from "./build.ts";
import { bestEffort } from "../base/errors.ts";

/** How long answers to one solicitation are collected, ms. */
const ANSWER_WINDOW_MS = 2000;

/** The running manycast clients. */
export interface ManycastClients {
  /** Engine ids mobilised per line, for tests and reports. */
  members(): number[][];
  /** Stops soliciting. */
  close(): Promise<void>;
}

/**
 * Starts the manycast clients of `config` (null without manycastclient lines). Throws when
 * a line names a key the keyfile lacks.
 */
export function startManycastClients(config: Config, parts: DaemonParts): ManycastClients | null {
  const lines = config.broadcast?.manycastClients ?? [];
  if (lines.length === 0) return null;
  for (const line of lines) {
    if (line.params.key !== null && parts.keys.get(line.params.key) === null) {
      throw new Error(`manycastclient ${line.group} uses key ${line.params.key}, not in keyfile`);
    }
  }
  let closed = false;
  const members = lines.map(() => [] as number[]);
  const pending = new Set<Promise<void>>();
  const timers: ReturnType<typeof setTimeout>[] = [];
  const run = (i: number) => {
    if (closed) return;
    const p = check(lines[i], members[i], parts, () => closed).finally(() => pending.delete(p));
    pending.add(p);
    p.then(() => {
      if (closed) return;
      const interval = Math.max(4, 2 ** lines[i].params.minPoll);
      timers[i] = setTimeout(() => run(i), interval * 1000);
    });
  };
  lines.forEach((line, i) => {
    parts.log.log(
      "info",
      `Manycast client soliciting ${line.group} port ${line.params.port} for up to ${line.params.maxSources} servers`,
    );
    run(i);
  });
  return {
    members: () => members.map((m) => [...m]),
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(pending);
    },
  };
}

async function check(
  line: ManycastClientConfig,
  members: number[],
  parts: DaemonParts,
  isClosed: () => boolean,
): Promise<void> {
  const { engine, log } = parts;
  for (let k = members.length - 1; k >= 0; k--) {
    if (engine.source(members[k]) === undefined) members.splice(k, 1);
  }
  const plan = manycastPlan(
    members.map((id) => {
      const s = engine.source(id)!;
      return { id, reachability: s.reachability, reachabilitySize: s.reachabilitySize };
    }),
    line.params.maxSources,
  );
  for (const id of plan.drop) {
    const s = engine.source(id);
    log.log("info", `Manycast server ${s?.addressText} unreachable, dropped`);
    engine.removeSource(id);
    members.splice(members.indexOf(id), 1);
  }
  if (plan.wanted === 0) return;
  const random8 = new Uint8Array(8);
  parts.random.fill(random8);
  const key = line.params.key === null ? null : parts.keys.get(line.params.key);
  const v6 = line.group.includes(":");
  let conn: Deno.DatagramConn;
  try {
    conn = Deno.listenDatagram({ transport: "udp", hostname: v6 ? "::" : "0.0.0.0", port: 0 });
  } catch (e) {
    log.log("warning", `Manycast solicitation of ${line.group} failed: ${String(e)}`);
    return;
  }
  const solicitation = new ManycastSolicitation(random8, engine.clock.cookedNow(), {
    key,
    keys: parts.keys,
    precision: engine.clock.precision,
    poll: line.params.minPoll,
  });
  const timer = setTimeout(() => conn.close(), ANSWER_WINDOW_MS);
  try {
    await conn.send(solicitation.request.bytes, {
      transport: "udp",
      hostname: line.group,
      port: line.params.port,
    });
    const buffer = new Uint8Array(1024);
    while (!isClosed()) {
      const [data, addr] = await conn.receive(buffer);
      const rx = engine.clock.cookedNow();
      const a = addr as Deno.NetAddr;
      const address = a.hostname.startsWith("::ffff:") && a.hostname.includes(".")
        ? a.hostname.slice(7)
        : a.hostname;
      solicitation.answer(data.slice(), { address, port: a.port }, rx);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted)) {
      log.log("warning", `Manycast solicitation of ${line.group} failed: ${String(e)}`);
    }
  } finally {
    clearTimeout(timer);
    bestEffort(() => conn.close());
  }
  if (isClosed()) return;
  const inUse = new Set(members.map((id) => engine.source(id)?.addressText ?? ""));
  for (const r of solicitation.choose(inUse, plan.wanted)) {
    const id = engine.addSource("server", r.address, { ...line.params }, null);
    members.push(id);
    log.log("info", `Manycast server ${r.address.address} mobilised (group ${line.group})`);
  }
}
