// A tiny WebAssembly assembler: just enough of the binary format (sections, LEB128, the handful of
// scalar and SIMD opcodes the matmul kernels use) to emit a module from TypeScript at run time, so the
// package ships no prebuilt binary and needs no toolchain. It knows nothing about matmul; see
// matmul-module.ts for the kernels written with it.
//
// Only what the kernels need is here. Opcode numbers are from the WebAssembly core specification
// (version 2, which includes the fixed-width SIMD instructions under the 0xfd prefix). Over 400
// lines because it is mostly that opcode table, one short method per instruction, kept in one place.

/** A WebAssembly value type the kernels use. */
export type ValType = 'i32' | 'f32' | 'f64' | 'v128';

const VALTYPE_BYTE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Bytes of the unsigned LEB128 encoding of a non-negative integer below 2^32. */
export function unsignedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a u32: ${value}`);
  const out: number[] = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Bytes of the signed LEB128 encoding of an integer in the i32 range. */
export function signedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`not an i32: ${value}`);
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7; // arithmetic shift keeps the sign, which is what the encoding's termination test needs
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A length-prefixed vector: the LEB128 count followed by the already-encoded items. */
function vec(items: readonly number[][]): number[] {
  return [...unsignedLeb128(items.length), ...items.flat()];
}

/** A section: its id byte, then its byte length, then its contents. */
function section(id: number, contents: number[]): number[] {
  return [id, ...unsignedLeb128(contents.length), ...contents];
}

/**
 * A branch target handed out by `block`/`loop`, valid inside that block's callback only;
 * `br`/`brIf` turn it into the relative depth the binary format wants. (It is the nesting depth, so a
 * label kept past its block is caught only while no sibling block at that depth is open.)
 */
export type Label = number & { readonly __label: unique symbol };

/**
 * Emits the body of one function. Instructions are methods that append their encoding and return
 * `this`, so a stack-machine sequence reads left to right: `f.get(a).get(b).i32Add().set(c)`.
 * Structured control flow takes a callback, which keeps block/end pairs balanced and lets branches
 * name their target instead of counting nesting depth by hand.
 */
export class FunctionBuilder {
  /** The code bytes emitted so far (without the locals header and the final `end`). */
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  private depth = 0;

  constructor(readonly params: readonly ValType[], readonly results: readonly ValType[]) {}

  /** Declares a new local of `type` and returns its index (parameters come first, 0..params-1). */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  /** The function body as the code section wants it: locals declarations, code, `end`. */
  body(): number[] {
    // Runs of equal types compress into one (count, type) entry.
    const groups: number[][] = [];
    for (let i = 0; i < this.localTypes.length;) {
      let j = i;
      while (j < this.localTypes.length && this.localTypes[j] === this.localTypes[i]) j++;
      groups.push([...unsignedLeb128(j - i), VALTYPE_BYTE[this.localTypes[i]!]]);
      i = j;
    }
    const bytes = [...vec(groups), ...this.code, 0x0b];
    return [...unsignedLeb128(bytes.length), ...bytes];
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  /** A 0xfd-prefixed SIMD instruction; the sub-opcode is a u32 LEB128. */
  private simd(subOpcode: number, ...immediates: number[]): this {
    return this.op(0xfd, ...unsignedLeb128(subOpcode), ...immediates);
  }

  /** A memory immediate: alignment hint (log2 bytes) and a constant byte offset. */
  private memarg(alignLog2: number, offset: number): number[] {
    return [...unsignedLeb128(alignLog2), ...unsignedLeb128(offset)];
  }

  // ---- control flow ----

  private structured(opcode: number, body: (label: Label) => void): this {
    this.op(opcode, 0x40); // 0x40: the block takes and leaves nothing on the stack
    this.depth++;
    body(this.depth as Label);
    this.depth--;
    return this.op(0x0b);
  }

  /** `block ... end`; a branch to its label jumps past the end. */
  block(body: (label: Label) => void): this {
    return this.structured(0x02, body);
  }

  /** `loop ... end`; a branch to its label jumps back to the top. */
  loop(body: (label: Label) => void): this {
    return this.structured(0x03, body);
  }

  /** `if ... end` on the i32 on top of the stack (non-zero runs `then`). */
  if(then: () => void): this {
    return this.structured(0x04, () => then());
  }

  private relativeDepth(label: Label): number[] {
    if (label > this.depth) throw new Error('branch to a label that is not open');
    return unsignedLeb128(this.depth - label);
  }

  /** Unconditional branch to `label`. */
  br(label: Label): this {
    return this.op(0x0c, ...this.relativeDepth(label));
  }

  /** Branch to `label` when the i32 on top of the stack is non-zero. */
  brIf(label: Label): this {
    return this.op(0x0d, ...this.relativeDepth(label));
  }

  /** Calls function `index` (the index `ModuleBuilder.addFunction` returned). */
  call(index: number): this {
    return this.op(0x10, ...unsignedLeb128(index));
  }

  // ---- locals ----

  /** local.get */
  get(index: number): this {
    return this.op(0x20, ...unsignedLeb128(index));
  }

  /** local.set */
  set(index: number): this {
    return this.op(0x21, ...unsignedLeb128(index));
  }

  /** local.tee */
  tee(index: number): this {
    return this.op(0x22, ...unsignedLeb128(index));
  }

  // ---- i32 ----

  /** i32.const */
  i32Const(value: number): this {
    return this.op(0x41, ...signedLeb128(value));
  }

  /** i32.eqz */
  i32Eqz(): this { return this.op(0x45); }
  /** i32.eq */
  i32Eq(): this { return this.op(0x46); }
  /** i32.lt_u */
  i32LtU(): this { return this.op(0x49); }
  /** i32.add */
  i32Add(): this { return this.op(0x6a); }
  /** i32.sub */
  i32Sub(): this { return this.op(0x6b); }
  /** i32.mul */
  i32Mul(): this { return this.op(0x6c); }
  /** i32.and */
  i32And(): this { return this.op(0x71); }
  /** i32.shl */
  i32Shl(): this { return this.op(0x74); }
  /** i32.shr_u */
  i32ShrU(): this { return this.op(0x76); }
  /** i32.load of the i32 at address (on the stack) + offset. */
  i32Load(offset = 0): this {
    return this.op(0x28, ...this.memarg(2, offset));
  }

  // ---- f32 ----

  /** f32.store of the f32 on top of the stack at address (below it) + offset. */
  f32Store(offset = 0): this {
    return this.op(0x38, ...this.memarg(2, offset));
  }

  // ---- bulk memory ----

  /** memory.copy of memory 0: n bytes (top of the stack) from src (below it) to dst (below that), as memmove. */
  memoryCopy(): this {
    return this.op(0xfc, 0x0a, 0x00, 0x00);
  }

  /** memory.fill of memory 0: n bytes (top of the stack) at dst (below the value) set to the byte value (middle). */
  memoryFill(): this {
    return this.op(0xfc, 0x0b, 0x00);
  }

  // ---- SIMD ----
  // Vector loads and stores declare 4-byte alignment: addresses are only ever float-aligned, and the
  // hint must not promise more than is true.

  /** v128.load of 16 bytes at address + offset. */
  v128Load(offset = 0): this {
    return this.simd(0x00, ...this.memarg(2, offset));
  }

  /** v128.load32_splat: one f32 at address + offset copied into all four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.simd(0x09, ...this.memarg(2, offset));
  }

  /** v128.load32_zero: one f32 at address + offset into lane 0, the other lanes zero. */
  v128Load32Zero(offset = 0): this {
    return this.simd(0x5c, ...this.memarg(2, offset));
  }

  /** v128.store of the vector on top of the stack at address (below it) + offset. */
  v128Store(offset = 0): this {
    return this.simd(0x0b, ...this.memarg(2, offset));
  }

  /** v128.const with all bits zero (which is also four f32 zeros). */
  v128Zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }

  /**
   * i8x16.shuffle specified in f32 lanes: result lane i is lane `lanes[i]` of the concatenation
   * (first operand lanes 0-3, second 4-7). Expanded to the 16 byte indices the opcode takes.
   */
  f32x4Shuffle(lanes: readonly [number, number, number, number]): this {
    const bytes: number[] = [];
    for (const lane of lanes) {
      if (lane < 0 || lane > 7) throw new RangeError(`shuffle lane ${lane}`);
      for (let b = 0; b < 4; b++) bytes.push(lane * 4 + b);
    }
    return this.simd(0x0d, ...bytes);
  }

  /** f32x4.extract_lane */
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f, lane);
  }

  /** f32x4.add */
  f32x4Add(): this { return this.simd(0xe4); }
  /** f32x4.sub */
  f32x4Sub(): this { return this.simd(0xe5); }
  /** f32x4.mul */
  f32x4Mul(): this { return this.simd(0xe6); }
  /** f32x4.neg */
  f32x4Neg(): this { return this.simd(0xe1); }
  /** f32x4.max (NaN in either lane gives NaN) */
  f32x4Max(): this { return this.simd(0xe9); }
  /** f32x4.gt: all ones in lanes where the first operand is greater, else zeros */
  f32x4Gt(): this { return this.simd(0x44); }
  /**
   * f32x4.relaxed_madd (relaxed SIMD): a·b + c for [a, b, c] on the stack, fused into one rounding
   * where the hardware has an FMA (x86 with FMA3, every Arm64), else a mul and an add.
   */
  f32x4RelaxedMadd(): this { return this.simd(0x105); }

  // ---- SIMD: f64x2 and integer lanes (the transcendental kernels in math-module.ts) ----

  /** v128.const with the 16 given bytes (little-endian lane order). */
  v128Const(bytes: readonly number[]): this {
    if (bytes.length !== 16) throw new RangeError(`v128.const takes 16 bytes, got ${bytes.length}`);
    return this.simd(0x0c, ...bytes.map((b) => b & 0xff));
  }

  /** v128.const holding two f64 lanes. */
  f64x2Const(lane0: number, lane1 = lane0): this {
    const bytes = new Uint8Array(new Float64Array([lane0, lane1]).buffer);
    return this.v128Const([...bytes]);
  }

  /** v128.const holding four f32 lanes, all `value` (rounded to float32). */
  f32x4Const(value: number): this {
    return this.v128Const([...new Uint8Array(new Float32Array([value, value, value, value]).buffer)]);
  }

  /** v128.const holding four i32 lanes (each taken modulo 2^32). */
  i32x4Const(lane0: number, lane1 = lane0, lane2 = lane0, lane3 = lane0): this {
    const bytes = new Uint8Array(new Int32Array([lane0, lane1, lane2, lane3]).buffer);
    return this.v128Const([...bytes]);
  }

  /** v128.load32_lane: one f32 at address + offset into lane `lane` of the vector on top of the stack. */
  v128Load32Lane(lane: number, offset = 0): this {
    return this.simd(0x56, ...this.memarg(2, offset), lane);
  }

  /** v128.store32_lane: lane `lane` of the vector on top of the stack to address (below it) + offset. */
  v128Store32Lane(lane: number, offset = 0): this {
    return this.simd(0x5a, ...this.memarg(2, offset), lane);
  }

  /** v128.and */
  v128And(): this { return this.simd(0x4e); }
  /** v128.or */
  v128Or(): this { return this.simd(0x50); }
  /** v128.bitselect: lanes of the first operand where the mask (top) has ones, else of the second. */
  v128Bitselect(): this { return this.simd(0x52); }

  /** f32x4.demote_f64x2_zero: two f64 lanes rounded to f32 in lanes 0-1, lanes 2-3 zero. */
  f32x4DemoteF64x2Zero(): this { return this.simd(0x5e); }
  /** f64x2.promote_low_f32x4: f32 lanes 0-1 widened exactly to two f64 lanes. */
  f64x2PromoteLowF32x4(): this { return this.simd(0x5f); }

  /** f64x2.ge (lane mask: all ones where a ≥ b; false for NaN) */
  f64x2Ge(): this { return this.simd(0x4c); }
  /** i64x2.shl by the i32 on top of the stack (modulo 64) */
  i64x2Shl(): this { return this.simd(0xcb); }
  /** i64x2.add */
  i64x2Add(): this { return this.simd(0xce); }

  /** f64x2.abs */
  f64x2Abs(): this { return this.simd(0xec); }
  /** f64x2.add */
  f64x2Add(): this { return this.simd(0xf0); }
  /** f64x2.sub */
  f64x2Sub(): this { return this.simd(0xf1); }
  /** f64x2.mul */
  f64x2Mul(): this { return this.simd(0xf2); }
  /** f64x2.div */
  f64x2Div(): this { return this.simd(0xf3); }
  /** f64x2.pmin: b < a ? b : a for [a, b] on the stack, so a NaN in a passes through (one minpd on x86). */
  f64x2Pmin(): this { return this.simd(0xf6); }
  /** f64x2.pmax: a < b ? b : a for [a, b] on the stack, so a NaN in a passes through (one maxpd on x86). */
  f64x2Pmax(): this { return this.simd(0xf7); }
  /** f64.promote_f32: the f32 on top of the stack widened (exactly) to an f64. */
  f64PromoteF32(): this { return this.op(0xbb); }
  /** f64x2.splat: the f64 on top of the stack copied into both lanes. */
  f64x2Splat(): this { return this.simd(0x14); }
}

interface FunctionEntry {
  readonly name: string | null;
  readonly builder: FunctionBuilder;
}

/**
 * Collects functions and writes a module with one exported memory. Function types are
 * deduplicated; functions are numbered in the order they are added, so a caller must add a function
 * before emitting a `call` to it.
 */
export class ModuleBuilder {
  private readonly functions: FunctionEntry[] = [];

  /**
   * @param memoryPages initial size of the module's memory in 64 KiB pages; the host grows it.
   * @param memoryExportName the name the memory is exported under.
   * @param sharedMaximumPages when given, the memory is not defined by the module but imported as
   *   `env.memory`, shared, with this maximum: several instances (one per thread) can then work on
   *   one memory. It is still exported, so the host finds it the same way.
   */
  constructor(
    private readonly memoryPages: number,
    private readonly memoryExportName = 'memory',
    private readonly sharedMaximumPages?: number,
  ) {}

  /**
   * Adds a function, emitting its body with `emit`, and returns its index. A non-null `exportName`
   * exports it under that name.
   */
  addFunction(
    exportName: string | null, params: readonly ValType[], results: readonly ValType[],
    emit: (f: FunctionBuilder) => void,
  ): number {
    const builder = new FunctionBuilder(params, results);
    emit(builder);
    this.functions.push({ name: exportName, builder });
    return this.functions.length - 1;
  }

  /** The binary module. */
  toBytes(): Uint8Array {
    const types: number[][] = [];
    const typeIndex = new Map<string, number>();
    const funcTypes = this.functions.map(({ builder }) => {
      const encoded = [
        0x60,
        ...vec(builder.params.map((t) => [VALTYPE_BYTE[t]])),
        ...vec(builder.results.map((t) => [VALTYPE_BYTE[t]])),
      ];
      const key = encoded.join(',');
      let index = typeIndex.get(key);
      if (index === undefined) {
        index = types.length;
        types.push(encoded);
        typeIndex.set(key, index);
      }
      return index;
    });

    const encodeName = (name: string): number[] => {
      const utf8 = [...new TextEncoder().encode(name)];
      return [...unsignedLeb128(utf8.length), ...utf8];
    };
    const exports: number[][] = [[...encodeName(this.memoryExportName), 0x02, 0x00]];
    this.functions.forEach(({ name }, i) => {
      if (name !== null) exports.push([...encodeName(name), 0x00, ...unsignedLeb128(i)]);
    });

    // Memory limits: flag 0x00 = minimum only; 0x03 = minimum and maximum, shared (threads proposal).
    const shared = this.sharedMaximumPages;
    const memorySections = shared === undefined
      ? section(5, vec([[0x00, ...unsignedLeb128(this.memoryPages)]]))
      : section(2, vec([[
        ...encodeName('env'), ...encodeName('memory'), 0x02,
        0x03, ...unsignedLeb128(this.memoryPages), ...unsignedLeb128(shared),
      ]]));
    const bytes = [
      0x00, 0x61, 0x73, 0x6d, // "\0asm"
      0x01, 0x00, 0x00, 0x00, // binary format version 1
      ...section(1, vec(types)),
      // The import section (2) comes before the function section (3); the memory section (5) after.
      ...(shared === undefined ? [] : memorySections),
      ...section(3, vec(funcTypes.map((t) => unsignedLeb128(t)))),
      ...(shared === undefined ? memorySections : []),
      ...section(7, vec(exports)),
      ...section(10, vec(this.functions.map(({ builder }) => builder.body()))),
    ];
    return new Uint8Array(bytes);
  }
}
