/**
 * A minimal cpio "newc" archive writer (the initramfs format of Linux): directories,
 * regular files, symlinks and device nodes, streamed to a writer.
 *
 * @module
 */

/** Where archive bytes go (a file, or the stdin of a gzip process). */
export interface ByteSink {
  /** Writes all of `chunk`. */
  write(chunk: Uint8Array): Promise<void>;
}

/** File type bits of st_mode. */
export const S_IFDIR = 0o040000;
/** Regular file. */
export const S_IFREG = 0o100000;
/** Symbolic link. */
export const S_IFLNK = 0o120000;
/** Character device. */
export const S_IFCHR = 0o020000;

const encoder = new TextEncoder();

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Writes a newc archive entry by entry; call `finish()` to write the trailer. */
export class CpioWriter {
  #sink: ByteSink;
  #ino = 1;
  #names = new Set<string>();

  /** A writer that streams into `sink`. */
  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  /** True when an entry of that name was already written. */
  has(name: string): boolean {
    return this.#names.has(name.replace(/^\/+/, ""));
  }

  async #entry(
    name: string,
    mode: number,
    data: Uint8Array,
    rdev: [number, number] = [0, 0],
  ): Promise<void> {
    const clean = name.replace(/^\/+/, "");
    this.#names.add(clean);
    const nameBytes = encoder.encode(clean + "\0");
    const fields = [
      this.#ino++,
      mode,
      0, // uid
      0, // gid
      (mode & 0o170000) === S_IFDIR ? 2 : 1,
      0, // mtime: fixed, so archives are reproducible
      data.byteLength,
      0,
      0,
      rdev[0],
      rdev[1],
      nameBytes.byteLength,
      0,
    ];
    const header = encoder.encode("070701" + fields.map(hex8).join(""));
    const headPad = pad4(header.byteLength + nameBytes.byteLength);
    const head = new Uint8Array(header.byteLength + nameBytes.byteLength + headPad);
    head.set(header, 0);
    head.set(nameBytes, header.byteLength);
    await this.#sink.write(head);
    if (data.byteLength > 0) {
      await this.#sink.write(data);
      const dataPad = pad4(data.byteLength);
      if (dataPad) await this.#sink.write(new Uint8Array(dataPad));
    }
  }

  /** A directory (parents must be written first). */
  dir(name: string, perm = 0o755): Promise<void> {
    return this.#entry(name, S_IFDIR | perm, new Uint8Array(0));
  }

  /** A regular file with the given contents. */
  file(name: string, data: Uint8Array | string, perm = 0o644): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    return this.#entry(name, S_IFREG | perm, bytes);
  }

  /** A symbolic link pointing at `target`. */
  symlink(name: string, target: string): Promise<void> {
    return this.#entry(name, S_IFLNK | 0o777, encoder.encode(target));
  }

  /** A character device node. */
  charDevice(name: string, major: number, minor: number, perm = 0o600): Promise<void> {
    return this.#entry(name, S_IFCHR | perm, new Uint8Array(0), [major, minor]);
  }

  /** Writes the TRAILER!!! entry that ends the archive. */
  finish(): Promise<void> {
    return this.#entry("TRAILER!!!", 0, new Uint8Array(0));
  }
}
