/**
 * Test helper: certificates for NTS tests from a private CA made with the openssl CLI
 * (valid, expired, for another name), and a free TCP port for NTS-KE.
 *
 * @module
 */
import { runCommand } from "./peers.ts";

/** A TCP port nobody listens on right now. */
export function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await runCommand("openssl", args, 30_000, { cwd: dir });
  if (out.code !== 0) throw new Error(`openssl ${args[0]} failed: ${out.stderr}`);
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A private CA `name`.crt / `name`.key in `dir`. */
export async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  );
}

/**
 * `out`.key / `out`.crt in `dir` for localhost and 127.0.0.1, signed by CA `ca`; with
 * `expired` valid only in 2020 (through `openssl ca`, which takes explicit dates).
 */
export async function makeServerCertificate(
  dir: string,
  ca: string,
  out = "server",
  expired = false,
): Promise<void> {
  await openssl(
    dir,
    "req",
    ...EC,
    "-keyout",
    `${out}.key`,
    "-out",
    `${out}.csr`,
    "-subj",
    "/CN=localhost",
  );
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  if (!expired) {
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${out}.csr`,
      "-CA",
      `${ca}.crt`,
      "-CAkey",
      `${ca}.key`,
      "-CAcreateserial",
      "-out",
      `${out}.crt`,
      "-days",
      "2",
      "-extfile",
      "ext.cnf",
    );
    return;
  }
  await Deno.writeTextFile(`${dir}/index.txt`, "");
  await Deno.writeTextFile(`${dir}/serial`, "1000\n");
  await Deno.writeTextFile(
    `${dir}/ca.cnf`,
    [
      "[ca]",
      "default_ca = here",
      "[here]",
      `database = ${dir}/index.txt`,
      `new_certs_dir = ${dir}`,
      `certificate = ${dir}/${ca}.crt`,
      `private_key = ${dir}/${ca}.key`,
      `serial = ${dir}/serial`,
      "default_md = sha256",
      "policy = any",
      "unique_subject = no",
      "[any]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  await openssl(
    dir,
    "ca",
    "-batch",
    "-notext",
    "-config",
    "ca.cnf",
    "-in",
    `${out}.csr`,
    "-out",
    `${out}.crt`,
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-extfile",
    "ext.cnf",
  );
}
