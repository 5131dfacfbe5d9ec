/**
 * A small eBPF assembler: instructions by name, jumps to named labels, 64-bit immediates and
 * map descriptors; `encode()` gives the 8-octet little-endian instructions BPF_PROG_LOAD
 * takes. Only what the XDP responder (responder_program.ts) uses; the kernel's verifier is
 * the judge of the result.
 *
 * @module
 */

/** An eBPF register. r10 is the read-only frame pointer. */
export type Reg = "r0" | "r1" | "r2" | "r3" | "r4" | "r5" | "r6" | "r7" | "r8" | "r9" | "r10";
/** A register or a signed 32-bit immediate. */
export type Operand = Reg | number;
/** Access size: u8, u16, u32, u64. */
export type Size = 8 | 16 | 32 | 64;
/** ALU operations. */
export type AluOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "or"
  | "and"
  | "lsh"
  | "rsh"
  | "mod"
  | "xor"
  | "mov"
  | "arsh";
/** Conditional jumps (unsigned unless s-prefixed). */
export type JumpOp =
  | "jeq"
  | "jgt"
  | "jge"
  | "jset"
  | "jne"
  | "jsgt"
  | "jsge"
  | "jlt"
  | "jle"
  | "jslt"
  | "jsle";

const CLASS = { ld: 0x00, ldx: 0x01, st: 0x02, stx: 0x03, alu: 0x04, jmp: 0x05, alu64: 0x07 };
const SIZE: Record<Size, number> = { 8: 0x10, 16: 0x08, 32: 0x00, 64: 0x18 };
const MODE_MEM = 0x60;
const MODE_ATOMIC = 0xc0;
const MODE_IMM = 0x00;
const SRC_X = 0x08;
const ALU: Record<AluOp, number> = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  mod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
};
const END_TO_BE = 0xd0 | 0x08;
const JUMP: Record<JumpOp | "ja" | "call" | "exit", number> = {
  ja: 0x00,
  jeq: 0x10,
  jgt: 0x20,
  jge: 0x30,
  jset: 0x40,
  jne: 0x50,
  jsgt: 0x60,
  jsge: 0x70,
  call: 0x80,
  exit: 0x90,
  jlt: 0xa0,
  jle: 0xb0,
  jslt: 0xc0,
  jsle: 0xd0,
};
/** src_reg of a 64-bit immediate load that names a map by descriptor. */
const PSEUDO_MAP_FD = 1;
/** BPF_ADD in the immediate of an atomic instruction. */
const ATOMIC_ADD = 0x00;

interface Instruction {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** Label a jump goes to (resolved by encode). */
  target?: string;
}

function regNumber(r: Reg): number {
  return Number(r.slice(1));
}

function isReg(o: Operand): o is Reg {
  return typeof o === "string";
}

function checkImm(imm: number): number {
  if (!Number.isInteger(imm) || imm < -0x8000_0000 || imm > 0xffff_ffff) {
    throw new RangeError(`eBPF immediate ${imm} is not a 32-bit integer`);
  }
  return imm | 0;
}

/** An eBPF program being written: call the instruction methods in order, then `encode()`. */
export class EbpfAssembler {
  readonly #code: Instruction[] = [];
  readonly #labels = new Map<string, number>();

  /** Number of 8-octet slots written so far. */
  get length(): number {
    return this.#code.length;
  }

  /** Marks the next instruction as `name` (each name once). */
  label(name: string): this {
    if (this.#labels.has(name)) throw new Error(`eBPF label ${name} defined twice`);
    this.#labels.set(name, this.#code.length);
    return this;
  }

  #push(code: number, dst: number, src: number, off: number, imm: number, target?: string): this {
    if (off < -0x8000 || off > 0x7fff) throw new RangeError(`eBPF offset ${off} out of range`);
    this.#code.push({ code, dst, src, off, imm: checkImm(imm), target });
    return this;
  }

  /** 64-bit ALU: dst = dst op src (mov: dst = src). */
  alu64(op: AluOp, dst: Reg, src: Operand): this {
    return isReg(src)
      ? this.#push(CLASS.alu64 | ALU[op] | SRC_X, regNumber(dst), regNumber(src), 0, 0)
      : this.#push(CLASS.alu64 | ALU[op], regNumber(dst), 0, 0, src);
  }

  /** 32-bit ALU (the upper half of dst is zeroed): dst = dst op src. */
  alu32(op: AluOp, dst: Reg, src: Operand): this {
    return isReg(src)
      ? this.#push(CLASS.alu | ALU[op] | SRC_X, regNumber(dst), regNumber(src), 0, 0)
      : this.#push(CLASS.alu | ALU[op], regNumber(dst), 0, 0, src);
  }

  /** dst = src (64-bit). */
  mov(dst: Reg, src: Operand): this {
    return this.alu64("mov", dst, src);
  }

  /** dst = the low `bits` of dst in big-endian (network) order, zero-extended. */
  toBigEndian(dst: Reg, bits: 16 | 32 | 64): this {
    return this.#push(CLASS.alu | END_TO_BE, regNumber(dst), 0, 0, bits);
  }

  /** dst = 64-bit constant (two slots). */
  loadImm64(dst: Reg, value: bigint): this {
    const v = BigInt.asUintN(64, value);
    this.#push(CLASS.ld | SIZE[64] | MODE_IMM, regNumber(dst), 0, 0, Number(v & 0xffff_ffffn));
    return this.#push(0, 0, 0, 0, Number(v >> 32n));
  }

  /** dst = the map with descriptor `fd` (two slots). */
  loadMap(dst: Reg, fd: number): this {
    this.#push(CLASS.ld | SIZE[64] | MODE_IMM, regNumber(dst), PSEUDO_MAP_FD, 0, fd);
    return this.#push(0, 0, 0, 0, 0);
  }

  /** dst = *(size *)(src + off). */
  load(size: Size, dst: Reg, src: Reg, off: number): this {
    return this.#push(CLASS.ldx | SIZE[size] | MODE_MEM, regNumber(dst), regNumber(src), off, 0);
  }

  /** *(size *)(dst + off) = src (a register or an immediate). */
  store(size: Size, dst: Reg, off: number, src: Operand): this {
    return isReg(src)
      ? this.#push(CLASS.stx | SIZE[size] | MODE_MEM, regNumber(dst), regNumber(src), off, 0)
      : this.#push(CLASS.st | SIZE[size] | MODE_MEM, regNumber(dst), 0, off, src);
  }

  /** Atomically *(u64 *)(dst + off) += src. */
  atomicAdd64(dst: Reg, off: number, src: Reg): this {
    return this.#push(
      CLASS.stx | SIZE[64] | MODE_ATOMIC,
      regNumber(dst),
      regNumber(src),
      off,
      ATOMIC_ADD,
    );
  }

  /** if (dst op src) goto label (64-bit compare). */
  jump(op: JumpOp, dst: Reg, src: Operand, label: string): this {
    return isReg(src)
      ? this.#push(CLASS.jmp | JUMP[op] | SRC_X, regNumber(dst), regNumber(src), 0, 0, label)
      : this.#push(CLASS.jmp | JUMP[op], regNumber(dst), 0, 0, src, label);
  }

  /** goto label. */
  goto(label: string): this {
    return this.#push(CLASS.jmp | JUMP.ja, 0, 0, 0, 0, label);
  }

  /** Calls helper number `helper` (arguments r1-r5, result r0; r1-r5 are clobbered). */
  call(helper: number): this {
    return this.#push(CLASS.jmp | JUMP.call, 0, 0, 0, helper);
  }

  /** return r0. */
  exit(): this {
    return this.#push(CLASS.jmp | JUMP.exit, 0, 0, 0, 0);
  }

  /** The program as BPF_PROG_LOAD takes it. Throws on an undefined label. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.#code.length * 8);
    const view = new DataView(out.buffer);
    this.#code.forEach((insn, pc) => {
      let off = insn.off;
      if (insn.target !== undefined) {
        const to = this.#labels.get(insn.target);
        if (to === undefined) throw new Error(`eBPF label ${insn.target} not defined`);
        off = to - (pc + 1);
        if (off < -0x8000 || off > 0x7fff) throw new RangeError(`eBPF jump too far`);
      }
      out[pc * 8] = insn.code;
      out[pc * 8 + 1] = (insn.src << 4) | insn.dst;
      view.setInt16(pc * 8 + 2, off, true);
      view.setInt32(pc * 8 + 4, insn.imm, true);
    });
    return out;
  }
}
