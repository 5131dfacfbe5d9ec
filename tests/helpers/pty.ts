/**
 * A pseudo-terminal pair for tests, through FFI (posix_openpt, grantpt, unlockpt,
 * ptsname_r): the test writes to the master, the code under test opens the slave path as
 * it would a serial port. Closing the master hangs the slave up, as an unplugged device.
 *
 * @module
 */
const SYMBOLS = {
  posix_openpt: { parameters: ["i32"], result: "i32" },
  grantpt: { parameters: ["i32"], result: "i32" },
  unlockpt: { parameters: ["i32"], result: "i32" },
  ptsname_r: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;
function symbols(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

/** The master side of a pty. */
export class PtyMaster {
  readonly #fd: number;
  /** Path of the slave side (/dev/pts/N). */
  readonly slave: string;
  #open = true;

  private constructor(fd: number, slave: string) {
    this.#fd = fd;
    this.slave = slave;
  }

  /** Opens a new pty pair (O_RDWR | O_NOCTTY). */
  static open(): PtyMaster {
    const s = symbols();
    const fd = s.posix_openpt(0o2 | 0o400);
    if (fd < 0) throw new Error("posix_openpt failed");
    const name = new Uint8Array(128);
    if (s.grantpt(fd) !== 0 || s.unlockpt(fd) !== 0 || s.ptsname_r(fd, name, 128n) !== 0) {
      s.close(fd);
      throw new Error("grantpt/unlockpt/ptsname_r failed");
    }
    return new PtyMaster(fd, new TextDecoder().decode(name.subarray(0, name.indexOf(0))));
  }

  /** Writes `text` (latin-1 bytes) to the slave's input. */
  write(text: string | Uint8Array): void {
    const bytes = typeof text === "string" ? Uint8Array.from(text, (c) => c.charCodeAt(0)) : text;
    symbols().write(this.#fd, bytes, BigInt(bytes.byteLength));
  }

  /** Closes the master (the slave sees a hang-up). */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    symbols().close(this.#fd);
  }
}
