/**
 * `deno task dist`: builds dist/tempus, one self-extracting executable for Linux x86-64
 * machines with no Deno, no npm and no network. It is scripts/dist_stub.sh followed by two
 * gzip streams: the pinned deno binary (the one running this script, from the npm package
 * `deno`) and tempus bundled into one JavaScript file (`deno bundle`). The stub unpacks
 * them once into a cache it owns, checks their SHA-256 sums and execs deno on the bundle
 * under the permission sandbox. The compressed runtime is cached in dist/.cache by the
 * binary's size and modification time, so rebuilding after a code change takes seconds.
 *
 * Usage: deno run -A scripts/dist.ts [--output dist/tempus]
 *
 * @module
 */
import { VERSION } from "../src/version.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

async function run(cmd: string, args: string[], stdout: "piped" | "inherit" = "inherit") {
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, stdout, stderr: "inherit" })
    .output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code})`);
  return stdout === "piped" ? out.stdout : new Uint8Array();
}

async function sha256(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function gzip(path: string): Promise<Uint8Array> {
  return await run("gzip", ["-6", "-n", "-c", path], "piped");
}

/** The deno binary to ship: the real file behind node_modules' deno, else this one. */
function denoBinary(): string {
  for (const p of [`${ROOT}/node_modules/deno/deno`, `${ROOT}/node_modules/.bin/deno`]) {
    try {
      return Deno.realPathSync(p);
    } catch {
      // not installed this way
    }
  }
  return Deno.realPathSync(Deno.execPath());
}

async function compressedRuntime(deno: string, cacheDir: string): Promise<Uint8Array> {
  const info = await Deno.stat(deno);
  const key = `${info.size}-${info.mtime?.getTime() ?? 0}`;
  const cached = `${cacheDir}/deno-${key}.gz`;
  try {
    return await Deno.readFile(cached);
  } catch {
    // build it
  }
  const gz = await gzip(deno);
  await Deno.mkdir(cacheDir, { recursive: true });
  for (const e of Deno.readDirSync(cacheDir)) {
    if (e.name.startsWith("deno-")) await Deno.remove(`${cacheDir}/${e.name}`);
  }
  await Deno.writeFile(`${cached}.tmp`, gz);
  await Deno.rename(`${cached}.tmp`, cached);
  return gz;
}

function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/@([A-Z_]+)@/g, (all, name: string) => {
    if (!(name in values)) throw new Error(`stub placeholder ${all} has no value`);
    return String(values[name]);
  });
}

/** What a build produced. */
export interface DistResult {
  /** The executable written. */
  output: string;
  /** Its size in bytes. */
  size: number;
  /** Bytes of the bundled program (uncompressed). */
  bundleSize: number;
  /** The build id (also the cache directory name). */
  id: string;
}

/** Builds the self-extracting executable at `output`. */
export async function buildDist(output = `${ROOT}/dist/tempus`): Promise<DistResult> {
  const cacheDir = `${ROOT}/dist/.cache`;
  await Deno.mkdir(cacheDir, { recursive: true });
  const bundle = `${cacheDir}/tempus.js`;
  await run(Deno.execPath(), ["bundle", "--quiet", "--platform", "deno", "-o", bundle, "mod.ts"]);
  const deno = denoBinary();
  const denoBytes = await Deno.readFile(deno);
  const jsBytes = await Deno.readFile(bundle);
  const denoGz = await compressedRuntime(deno, cacheDir);
  const jsGz = await gzip(bundle);
  const sums = `${await sha256(denoBytes)}  deno\n${await sha256(jsBytes)}  tempus.js`;
  const id = `${VERSION}-${(await sha256(new TextEncoder().encode(sums))).slice(0, 16)}`;
  const denoVersion = new TextDecoder().decode(await run(deno, ["--version"], "piped"))
    .split(" ")[1] ?? "?";
  const template = await Deno.readTextFile(`${ROOT}/scripts/dist_stub.sh`);
  // The offsets are part of the stub, whose length depends on their digits: iterate.
  let stub = "";
  let stubLength = 0;
  for (let i = 0; i < 5; i++) {
    stub = fill(template, {
      VERSION,
      DENO_VERSION: denoVersion,
      ID: id,
      SUMS: sums,
      DENO_OFFSET: stubLength + 1,
      DENO_SIZE: denoGz.length,
      JS_OFFSET: stubLength + denoGz.length + 1,
      JS_SIZE: jsGz.length,
    });
    const length = new TextEncoder().encode(stub).length;
    if (length === stubLength) break;
    stubLength = length;
  }
  const stubBytes = new TextEncoder().encode(stub);
  if (stubBytes.length !== stubLength) throw new Error("stub length changed while filling");
  await Deno.mkdir(output.replace(/\/[^/]*$/, ""), { recursive: true });
  const tmp = `${output}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o755 });
  for (const part of [stubBytes, denoGz, jsGz]) {
    let at = 0;
    while (at < part.length) at += await file.write(part.subarray(at));
  }
  file.close();
  await Deno.chmod(tmp, 0o755);
  await Deno.rename(tmp, output);
  const size = stubBytes.length + denoGz.length + jsGz.length;
  return { output, size, bundleSize: jsBytes.length, id };
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--output");
  const output = at >= 0 ? Deno.args[at + 1] : undefined;
  const r = await buildDist(output);
  console.log(
    `${r.output}: ${(r.size / 1e6).toFixed(1)} MB (build ${r.id}; program ` +
      `${(r.bundleSize / 1e3).toFixed(0)} KB)`,
  );
}
