/**
 * Big-endian (network order) 16- and 32-bit unsigned integers read and written in place in
 * a byte array. Writes keep the low 16 or 32 bits of the value; offsets are not checked.
 *
 * @module
 */

/** The unsigned 16-bit big-endian value at `at`. */
export function readU16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

/** The unsigned 32-bit big-endian value at `at`. */
export function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** Writes the low 16 bits of `v` big-endian at `at`. */
export function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

/** Writes the low 32 bits of `v` big-endian at `at`. */
export function writeU32(b: Uint8Array, at: number, v: number): void {
  writeU16(b, at, v >>> 16);
  writeU16(b, at + 2, v);
}
