/**
 * SysV shared memory for the SHM refclock: shmget + shmat of a segment by key, read as a
 * copy and with `valid` cleared after a read, as chrony's refclock_shm.c does. Needs
 * --allow-ffi.
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";

const SYMBOLS = {
  shmget: { parameters: ["i32", "usize", "i32"], result: "i32" },
  shmat: { parameters: ["i32", "pointer", "i32"], result: "pointer" },
  shmdt: { parameters: ["pointer"], result: "i32" },
  shmctl: { parameters: ["i32", "i32", "pointer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** IPC_CREAT. */
const IPC_CREAT = 0o1000;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;
function symbols(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

function errno(): number {
  const p = symbols().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** An attached segment. */
export class ShmSegment {
  readonly #ptr: Deno.PointerObject;
  readonly #id: number;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  #attached = true;

  private constructor(id: number, ptr: Deno.PointerObject, size: number) {
    this.#id = id;
    this.#ptr = ptr;
    const buf = Deno.UnsafePointerView.getArrayBuffer(ptr, size);
    this.#view = new DataView(buf);
    this.#bytes = new Uint8Array(buf);
  }

  /** Gets (creating with `perm` if needed) and attaches the segment `key` of `size` bytes. */
  static attach(key: number, size: number, perm = 0o600): ShmSegment {
    const s = symbols();
    const id = s.shmget(key | 0, BigInt(size), IPC_CREAT | perm);
    if (id < 0) throw new ErrnoError("shmget", errno());
    const p = s.shmat(id, null, 0);
    if (p === null || Deno.UnsafePointer.value(p) === 0xffffffffffffffffn) {
      throw new ErrnoError("shmat", errno());
    }
    return new ShmSegment(id, p, size);
  }

  /** A copy of the segment's bytes. */
  read(): Uint8Array {
    return this.#bytes.slice();
  }

  /** The int32 at `offset` now. */
  int32(offset: number): number {
    return this.#view.getInt32(offset, true);
  }

  /** Writes an int32 at `offset` (clears `valid`, or a test writer). */
  setInt32(offset: number, value: number): void {
    this.#view.setInt32(offset, value, true);
  }

  /** Writes bytes at 0 (a test writer). */
  write(bytes: Uint8Array): void {
    this.#bytes.set(bytes);
  }

  /** Marks the segment for removal (IPC_RMID; gone when the last user detaches). */
  remove(): void {
    symbols().shmctl(this.#id, 0, null);
  }

  /** Detaches. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    symbols().shmdt(this.#ptr);
  }
}
