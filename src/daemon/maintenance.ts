/**
 * The daemon's maintenance commands and their start-up and exit halves, as chronyd 4.3 has
 * them: configured sources added with "Could not add source" for a duplicate, `-r` loading
 * the dump files once the names are resolved (then chronyd removes them), `dump` and the
 * dump at exit, `reload sources`, `rekey`, `authdata`, `add server` answering 511 for an
 * address in use, `makestep` failing under -x, the local address `ntpdata` shows,
 * `onoffline` by routes, and the `refresh` directive's periodic re-resolution.
 *
 * @module
 */
import { ConnectedUdpSocket } from "../../ffi/connected_udp.ts";
import { parseIpAddress } from "../base/ip.ts";
import { NullClockDriver } from "../clock/null.ts";
import { DEFAULT_SOURCE_PARAMS, OPTIONAL_SOURCE_PARAMS } from "../config/defaults.ts";
import type { SourceConfig, SourceParams } from "../config/model.ts";
import type { AddSourceRequest, AuthDataReport, ControlResult } from "../core/control.ts";
import type { KeyType } from "../ntp/keyfile.ts";
import type { DaemonOptions } from "./args.ts";
import type { DaemonParts } from "./build.ts";
import type { DaemonServices } from "./control.ts";
import {
  type DumpedSource,
  dumpedSource,
  loadDumpFiles,
  removeDumpFiles,
  writeDumpFiles,
} from "./dump.ts";
import { loadKeyFile } from "./keys.ts";
import { ensurePrivateDir } from "../io/private_dir.ts";
import { errorMessage } from "../base/errors.ts";
import {
  addConfiguredSources,
  fromSourceDir,
  scheduleRefresh,
  SourceDirReloader,
} from "./reload.ts";

/** chrony's key type numbers (hash.h HSH_*, cmac.h CMC_*), which chronyc prints. */
export const CHRONY_KEY_TYPES: Readonly<Record<KeyType, number>> = {
  "MD5": 1,
  "SHA1": 2,
  "SHA256": 3,
  "SHA384": 4,
  "SHA512": 5,
  "SHA3-224": 6,
  "SHA3-256": 7,
  "SHA3-384": 8,
  "SHA3-512": 9,
  "AES128": 13,
  "AES256": 14,
};

/** The maintenance side of the daemon's control, and what runs at exit. */
export interface Maintenance {
  /** The DaemonControl services this module provides. */
  services: Pick<
    DaemonServices,
    | "dump"
    | "addSource"
    | "authData"
    | "rekey"
    | "reloadSources"
    | "onOffline"
    | "makeStepNow"
    | "localAddressFor"
  >;
  /** Settles once the configured sources' first resolution (and any -r load) is done. */
  ready: Promise<void>;
  /** Writes the dump files at exit (chronyd always does when dumpdir is set). */
  dumpAtExit(): void;
}

/** Adds the configured sources and returns the maintenance services. */
export function startMaintenance(parts: DaemonParts, options: DaemonOptions): Maintenance {
  const { config, engine, sources, log } = parts;
  const started = addConfiguredSources(sources, config.sources, log);
  const dirs = config.sourceDirs ?? [];
  const reloader = new SourceDirReloader(
    dirs,
    started.added.filter((c) => fromSourceDir(c.origin, dirs)),
    sources,
    log,
  );
  const dumpDir = config.dumpDir;
  if (dumpDir !== null) {
    // As chronyd (CNF_CreateDirs): dumpdir is created 0750 for the user the daemon runs as.
    try {
      ensurePrivateDir(dumpDir, 0o750, parts.runUser);
    } catch (error) {
      log.log("warning", `Could not create dumpdir ${dumpDir}: ${errorMessage(error)}`);
    }
  }
  const writeDumps = (): ControlResult => {
    if (dumpDir === null) return { ok: false, status: "failed", message: "no dumpdir configured" };
    const failed = writeDumpFiles(dumpDir, dumped());
    for (const f of failed) log.log("warning", `Could not write dump file ${f}`);
    return failed.length === 0
      ? { ok: true }
      : { ok: false, status: "failed", message: `could not write ${failed.length} dump files` };
  };
  const dumped = (): DumpedSource[] =>
    engine.sourceIds().flatMap((id) => {
      const s = engine.source(id);
      return s === undefined ? [] : [dumpedSource(s, sources.nameOf(id))];
    });

  const ready = started.resolved.then(() => {
    if (options.reloadDumps) {
      if (dumpDir === null) log.log("warning", "-r: no dumpdir configured, nothing to reload");
      else {
        const loaded = loadDumpFiles(dumpDir, dumped(), engine.clock.cookedNow(), log);
        if (loaded > 0) engine.reselect();
      }
    }
    if (dumpDir !== null) removeDumpFiles(dumpDir);
  });

  // refresh: names are resolved again every `refresh` seconds (chrony's default two weeks).
  if (options.oneShot === null) {
    scheduleRefresh(parts.timers, config.refresh, () => void sources.refresh());
  }

  const localAddresses = new Map<string, string | null>();
  return {
    ready,
    dumpAtExit: () => {
      if (dumpDir !== null) writeDumps();
    },
    services: {
      dump: writeDumps,
      addSource: (request) => addSource(parts, request),
      authData: (address) => authData(parts, address),
      rekey: () => {
        const loaded = loadKeyFile(config);
        for (const w of [...loaded.warnings, ...loaded.errors]) log.log("warning", w);
        if (loaded.errors.length > 0) {
          return { ok: false, status: "failed", message: "keys not reloaded" };
        }
        parts.keys.replaceWith(loaded.keys);
        return { ok: true };
      },
      reloadSources: () => reloader.reload(),
      onOffline: () => {
        // chronyd's onoffline: online where a route to the source exists, else offline.
        for (const report of engine.sources()) {
          if (parseIpAddress(report.address) === null) continue;
          const routed = localAddressFor(parts, report.address) !== null;
          engine.setConnectivity({ address: report.address, mask: null }, routed);
        }
        return { ok: true };
      },
      makeStepNow: parts.driver instanceof NullClockDriver
        ? () => {
          // As chronyd -x (sys_null.c cannot step): the step fails and says so.
          log.log("error", "Could not step system clock");
          return { ok: false, status: "failed" };
        }
        : undefined,
      localAddressFor: (remote) => {
        if (!localAddresses.has(remote)) localAddresses.set(remote, localAddressFor(parts, remote));
        return localAddresses.get(remote) ?? null;
      },
    },
  };
}

/** `add server|pool|peer`: 511 at once for an address a source already has. */
function addSource(parts: DaemonParts, request: AddSourceRequest): ControlResult {
  const params = { ...DEFAULT_SOURCE_PARAMS, port: request.port };
  const p = params as unknown as Record<string, number | boolean | null>;
  for (const [key, value] of Object.entries(request.options)) {
    const known = key in p || OPTIONAL_SOURCE_PARAMS.has(key as keyof SourceParams);
    if (!known) return { ok: false, status: "invalid", message: `unknown option ${key}` };
    p[key] = value;
  }
  const config: SourceConfig = {
    type: request.type,
    name: request.name,
    params,
    origin: "(chronyc add)",
  };
  const inEngine = parts.engine.sources().some((s) => s.address === request.name);
  if (inEngine) return { ok: false, status: "sourcealreadyknown" };
  const r = parts.sources.add(config);
  return r.present ? { ok: false, status: "sourcealreadyknown" } : { ok: true };
}

/** `authdata`: a source with a key shows its id, chrony's type number and its bits. */
function authData(parts: DaemonParts, address: string): AuthDataReport | null {
  const { engine } = parts;
  for (const id of engine.sourceIds()) {
    const s = engine.source(id);
    if (s === undefined || s.addressText !== address) continue;
    // NTS sources (daemon/nts_sources.ts): keys from NTS-KE, cookies.
    const nts = parts.nts?.authData(address) ?? null;
    if (nts !== null) {
      return { ...nts, mode: "nts", keyLengthBits: nts.keyLength, nak: nts.nak ? 1 : 0 };
    }
    const keyId = s.params.key;
    const key = keyId === null ? null : parts.keys.get(keyId);
    return {
      mode: keyId === null ? "none" : "symmetric",
      keyId: keyId ?? 0,
      keyType: key === null ? 0 : CHRONY_KEY_TYPES[key.type],
      keyLengthBits: key === null ? 0 : 8 * key.value.length,
      keAttempts: 0,
      lastKeAgo: null,
      cookies: 0,
      cookieLength: 0,
      nak: 0,
    };
  }
  return null;
}

/**
 * The local address requests to `remote` leave from: the bindacqaddress of its family, or
 * the address the kernel's routing picks (a connected UDP socket's name; nothing is sent).
 */
function localAddressFor(parts: DaemonParts, remote: string): string | null {
  const ip = parseIpAddress(remote);
  if (ip === null) return null;
  const bound = (parts.config.bindAcqAddresses ?? []).find((a) =>
    parseIpAddress(a)?.family === ip.family
  );
  if (bound !== undefined && !["0.0.0.0", "::"].includes(bound)) return bound;
  let socket: ConnectedUdpSocket | null = null;
  try {
    socket = ConnectedUdpSocket.connect(ip.bytes, 123);
    return socket.localAddress();
  } catch {
    return null;
  } finally {
    socket?.close();
  }
}
