/**
 * What the sandbox grants a command (`Grants`), what the pre-stage may look at on the host
 * (`HostFacts`), and the `deno run` flags that grant exactly that; plus the small argument
 * and path helpers the per-command grants share.
 *
 * @module
 */
import type { ConfReader } from "../config/load.ts";
import { readTextOrNull } from "../io/files.ts";

/** What a command may touch. `net: "all"` means unscoped network permission. */
export interface Grants {
  /** Paths readable (a directory grants everything below it). */
  read: string[];
  /** Paths writable. */
  write: string[];
  /** `host`, `host:port` or `unix:/path` entries, or "all". */
  net: string[] | "all";
  /** FFI: `["*"]` (unscoped; Deno 2.9 cannot scope pointer operations) or none. */
  ffi: string[];
  /** Environment variables readable. */
  env: string[];
  /** System information APIs (`Deno.networkInterfaces` is "networkInterfaces"). */
  sys: string[];
  /** Programs that may be run (the daemon going to the background re-executes deno). */
  run: string[];
}

/** What the pre-stage may look at on the host (injected in tests). */
export interface HostFacts {
  /** An environment variable. */
  env(name: string): string | undefined;
  /** A text file's content, or null. */
  readText(path: string): string | null;
  /** The configuration reader (wrapped to record what it reads). */
  reader: ConfReader;
  /** The deno binary running this (the one the launcher execs). */
  execPath(): string;
}

/** The host facts through Deno (needs read permission, and env for the names read). */
export function denoHostFacts(reader: ConfReader): HostFacts {
  return {
    env: (name) => {
      try {
        return Deno.env.get(name);
      } catch {
        return undefined;
      }
    },
    readText: readTextOrNull,
    reader,
    execPath: () => Deno.execPath(),
  };
}

/** Nothing granted. */
export function emptyGrants(): Grants {
  return { read: [], write: [], net: [], ffi: [], env: [], sys: [], run: [] };
}

/**
 * FFI (libc: clocks, adjtimex, capabilities, /dev/rtc, kernel-timestamp sockets). Deno 2.9
 * checks pointer operations (`Deno.UnsafePointer.of`, used for every msghdr) against an
 * unscoped FFI grant only, so `--allow-ffi=/path/libc.so.6` cannot work: FFI is all or none.
 */
export const FFI_ALL: string[] = ["*"];

/** The directory of a path ("/" for a top-level one). */
export function dirOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}

/** A host as a net entry: an IPv6 literal in brackets. */
export function netHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** $TMPDIR, or /tmp. */
export function tmpDir(host: HostFacts): string {
  return host.env("TMPDIR") || "/tmp";
}

/**
 * Runs `load` (a configuration parse) through a reader that records every file read and
 * directory listed, and grants reading all of them and `file`.
 */
export function loadGranting<T>(
  g: Grants,
  host: HostFacts,
  file: string | null,
  load: (reader: ConfReader) => T,
): T {
  const files = new Set<string>();
  const dirs = new Set<string>();
  const inner = host.reader;
  const result = load({
    readFile(path) {
      files.add(path);
      return inner.readFile(path);
    },
    listDir(path) {
      dirs.add(path);
      return inner.listDir(path);
    },
  });
  if (file !== null) files.add(file);
  g.read.push(...files, ...dirs);
  return result;
}

/** The value after `name` (or its short form) in `args`, or null. */
export function optionValue(args: string[], names: string[]): string | null {
  for (let i = 0; i < args.length - 1; i++) if (names.includes(args[i])) return args[i + 1];
  const eq = args.find((a) => names.some((n) => a.startsWith(`${n}=`)));
  return eq === undefined ? null : eq.slice(eq.indexOf("=") + 1);
}

/** Positional arguments: not options, not values of the `valued` options. */
export function positionals(args: string[], valued: string[]): string[] {
  return args.filter((a, i) => !a.startsWith("-") && !valued.includes(args[i - 1] ?? ""));
}

/** Rejects a path Deno's comma-separated flag syntax cannot carry. */
function checkEntry(entry: string): void {
  if (/[,\n]/.test(entry)) throw new Error(`cannot grant '${entry}': it contains a comma`);
}

/** The `deno run` flags that grant exactly `g` (never -A). */
export function denoFlags(g: Grants): string[] {
  const flag = (name: string, list: string[]) => {
    const unique = [...new Set(list)].sort();
    unique.forEach(checkEntry);
    return unique.length ? [`--allow-${name}=${unique.join(",")}`] : [];
  };
  return [
    ...flag("read", g.read),
    ...flag("write", g.write),
    ...(g.net === "all" ? ["--allow-net"] : flag("net", g.net)),
    ...(g.ffi.includes("*") ? ["--allow-ffi"] : flag("ffi", g.ffi)),
    ...flag("env", g.env),
    ...flag("sys", g.sys),
    ...flag("run", g.run),
  ];
}
