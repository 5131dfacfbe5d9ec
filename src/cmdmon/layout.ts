/**
 * A small declarative codec for chrony's fixed C structs. A layout is an object of named,
 * typed fields in wire order (big-endian; JavaScript keeps string keys in insertion order),
 * and `encodeLayout`/`decodeLayout` write and read it. The value type of a layout,
 * `LayoutValue<L>`, follows from the layout itself, so the server's encoders and the
 * client's readers share one description and a misspelt field name is a compile error.
 * Field types cover what candm.h uses: integers, Float, Timespec, IPAddr, Integer64, fixed
 * strings, reserved words and arrays of sub-structs.
 *
 * @module
 */
import { decodeFloat, encodeFloat } from "./float.ts";
import { type IpAddr, IPADDR_UNSPEC, unspecAddr } from "./ip_addr.ts";

/** Timespec sec_high value meaning "no high part" (32-bit time_t senders). */
export const TV_NOHIGHSEC = 0x7fffffff;

/** A fixed-size, NUL-padded string field of `string` bytes. */
export interface StringField {
  /** Size in bytes (the last one is always NUL on encode). */
  readonly string: number;
}

/** `reserved` u32 words, written as 0xffffffff and not decoded. */
export interface ReservedField {
  /** Number of 32-bit words. */
  readonly reserved: number;
}

/** An array of `count` sub-structs. */
export interface ArrayField<L extends Layout = Layout> {
  /** Layout of one element. */
  readonly array: L;
  /** Number of elements on the wire. */
  readonly count: number;
}

/** A numeric field type (decoded as a number). */
export type NumberFieldType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "float";

/** One field type. */
export type FieldType =
  | NumberFieldType
  | "timespec"
  | "ip"
  | "int64"
  | StringField
  | ReservedField
  | ArrayField;

/** A struct layout: field name to type, in wire order. */
export type Layout = { readonly [name: string]: FieldType };

/** The value a field type decodes to (and encodes from). */
export type FieldValue<T extends FieldType> = T extends "timespec" | "int64" ? bigint
  : T extends "ip" ? IpAddr
  : T extends StringField ? string
  : T extends ArrayField<infer L> ? LayoutValue<L>[]
  : number;

/**
 * The value of a layout: every field but the reserved ones, typed by its field type.
 * Timespec = bigint ns since the epoch; Integer64 = bigint; IPAddr = IpAddr.
 */
export type LayoutValue<L extends Layout> = {
  -readonly [K in keyof L as L[K] extends ReservedField ? never : K]: FieldValue<L[K]>;
};

/** Declares a layout, keeping its literal field types (for `LayoutValue`). */
export function layout<const L extends Layout>(fields: L): L {
  return fields;
}

/** Byte size of one field type. */
export function fieldSize(type: FieldType): number {
  if (typeof type !== "object") return SCALARS[type].size;
  if ("string" in type) return type.string;
  if ("reserved" in type) return 4 * type.reserved;
  return layoutSize(type.array) * type.count;
}

/** A layout's fields in wire order and its size, computed once per layout object. */
interface Compiled {
  fields: ReadonlyArray<readonly [string, FieldType]>;
  size: number;
}

const compiled = new WeakMap<Layout, Compiled>();

function compile(layout: Layout): Compiled {
  let c = compiled.get(layout);
  if (c === undefined) {
    const fields = Object.entries(layout);
    let size = 0;
    for (const [, t] of fields) size += fieldSize(t);
    c = { fields, size };
    compiled.set(layout, c);
  }
  return c;
}

/** Byte size of a layout. */
export function layoutSize(layout: Layout): number {
  return compile(layout).size;
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : typeof v === "bigint" ? Number(v) : 0;
}

/** Writes an IpAddr at `offset`. */
export function writeIp(dv: DataView, offset: number, ip: IpAddr | null | undefined): void {
  const a = ip ?? unspecAddr();
  for (let i = 0; i < 16; i++) dv.setUint8(offset + i, a.bytes[i] ?? 0);
  dv.setUint16(offset + 16, a.family);
  dv.setUint16(offset + 18, 0);
}

/** Reads an IpAddr at `offset`. */
export function readIp(dv: DataView, offset: number): IpAddr {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = dv.getUint8(offset + i);
  const family = dv.getUint16(offset + 16);
  return { family: family <= 3 ? family : IPADDR_UNSPEC, bytes };
}

/** Writes a Timespec (bigint ns since the epoch) as chrony does on 64-bit systems. */
export function writeTimespec(dv: DataView, offset: number, t: bigint): void {
  let sec = t / 1_000_000_000n;
  let nsec = t % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  const u = BigInt.asUintN(64, sec);
  dv.setUint32(offset, Number(u >> 32n));
  dv.setUint32(offset + 4, Number(u & 0xffffffffn));
  dv.setUint32(offset + 8, Number(nsec));
}

/** Reads a Timespec to bigint ns since the epoch (sec_high 0x7fffffff = none). */
export function readTimespec(dv: DataView, offset: number): bigint {
  const hi = dv.getUint32(offset);
  const lo = dv.getUint32(offset + 4);
  let nsec = dv.getUint32(offset + 8);
  if (nsec >= 1_000_000_000) nsec = 999_999_999;
  const high = hi === TV_NOHIGHSEC ? 0n : BigInt(hi);
  const sec = BigInt.asIntN(64, (high << 32n) | BigInt(lo));
  return sec * 1_000_000_000n + BigInt(nsec);
}

/** A field type that is not an object (string, reserved or array): its size, writer, reader. */
interface Scalar {
  size: number;
  write(dv: DataView, offset: number, v: unknown): void;
  read(dv: DataView, offset: number): unknown;
}

const SCALARS: Readonly<Record<Exclude<FieldType, object>, Scalar>> = {
  u8: {
    size: 1,
    write: (dv, o, v) => dv.setUint8(o, num(v) & 0xff),
    read: (dv, o) => dv.getUint8(o),
  },
  i8: {
    size: 1,
    write: (dv, o, v) => dv.setInt8(o, num(v) << 24 >> 24),
    read: (dv, o) => dv.getInt8(o),
  },
  u16: {
    size: 2,
    write: (dv, o, v) => dv.setUint16(o, num(v) & 0xffff),
    read: (dv, o) => dv.getUint16(o),
  },
  i16: {
    size: 2,
    write: (dv, o, v) => dv.setInt16(o, num(v) << 16 >> 16),
    read: (dv, o) => dv.getInt16(o),
  },
  u32: {
    size: 4,
    write: (dv, o, v) => dv.setUint32(o, num(v) >>> 0),
    read: (dv, o) => dv.getUint32(o),
  },
  i32: {
    size: 4,
    write: (dv, o, v) => dv.setInt32(o, num(v) | 0),
    read: (dv, o) => dv.getInt32(o),
  },
  float: {
    size: 4,
    write: (dv, o, v) => dv.setUint32(o, encodeFloat(typeof v === "number" ? v : 0)),
    read: (dv, o) => decodeFloat(dv.getUint32(o)),
  },
  int64: {
    size: 8,
    write: (dv, o, v) => {
      const b = BigInt.asUintN(64, typeof v === "bigint" ? v : BigInt(Math.trunc(num(v))));
      dv.setUint32(o, Number(b >> 32n));
      dv.setUint32(o + 4, Number(b & 0xffffffffn));
    },
    read: (dv, o) => (BigInt(dv.getUint32(o)) << 32n) | BigInt(dv.getUint32(o + 4)),
  },
  timespec: {
    size: 12,
    write: (dv, o, v) => writeTimespec(dv, o, typeof v === "bigint" ? v : 0n),
    read: readTimespec,
  },
  ip: { size: 20, write: (dv, o, v) => writeIp(dv, o, v as IpAddr | undefined), read: readIp },
};

/**
 * Encodes `values` by `layout` into `dv` at `offset` and returns the bytes written. A field
 * missing at run time (or an array shorter than its count) is written as zero.
 */
export function encodeLayout<L extends Layout>(
  dv: DataView,
  offset: number,
  layout: L,
  values: LayoutValue<L>,
): number {
  return encodeFields(dv, offset, layout, values);
}

function encodeFields(
  dv: DataView,
  offset: number,
  layout: Layout,
  values: Readonly<Record<string, unknown>>,
): number {
  let o = offset;
  for (const [name, type] of compile(layout).fields) {
    const v = values[name];
    if (typeof type === "object") {
      if ("string" in type) {
        const bytes = new TextEncoder().encode(typeof v === "string" ? v : "");
        for (let i = 0; i < type.string; i++) {
          dv.setUint8(o + i, i < bytes.length && i < type.string - 1 ? bytes[i] : 0);
        }
      } else if ("reserved" in type) {
        for (let i = 0; i < type.reserved; i++) dv.setUint32(o + 4 * i, 0xffffffff);
      } else {
        const items = Array.isArray(v) ? v : [];
        const size = layoutSize(type.array);
        for (let i = 0; i < type.count; i++) {
          const item = items[i];
          if (item && typeof item === "object") {
            encodeFields(dv, o + i * size, type.array, item as Record<string, unknown>);
          }
        }
      }
      o += fieldSize(type);
      continue;
    }
    SCALARS[type].write(dv, o, v);
    o += fieldSize(type);
  }
  return o - offset;
}

/** Decodes a struct by `layout` from `dv` at `offset`; the caller checks the length first. */
export function decodeLayout<L extends Layout>(
  dv: DataView,
  offset: number,
  layout: L,
): LayoutValue<L> {
  // Every non-reserved field of the layout is set below with its field type's value.
  return decodeFields(dv, offset, layout) as LayoutValue<L>;
}

function decodeFields(dv: DataView, offset: number, layout: Layout): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let o = offset;
  for (const [name, type] of compile(layout).fields) {
    if (typeof type === "object") {
      if ("string" in type) {
        const bytes = new Uint8Array(dv.buffer, dv.byteOffset + o, type.string);
        const end = bytes.indexOf(0);
        out[name] = new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
      } else if ("array" in type) {
        const size = layoutSize(type.array);
        const items: Record<string, unknown>[] = [];
        for (let i = 0; i < type.count; i++) items.push(decodeFields(dv, o + i * size, type.array));
        out[name] = items;
      }
      o += fieldSize(type);
      continue;
    }
    out[name] = SCALARS[type].read(dv, o);
    o += fieldSize(type);
  }
  return out;
}
