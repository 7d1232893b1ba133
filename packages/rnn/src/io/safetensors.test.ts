import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError, TinytapeUserError } from './errors.ts';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  saveSafetensors,
  type SafeTensor,
} from './safetensors.ts';

/** Assembles a safetensors file by hand: u64 LE header length, header text (padded if asked), data. */
function assemble(header: unknown, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  let json = new TextEncoder().encode(text);
  if (pad) {
    const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function expectCheckpointError(fn: () => unknown, fragment: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CheckpointError);
  expect(caught).toBeInstanceOf(TinytapeUserError);
  expect((caught as Error).message).toMatch(fragment);
}

const f32 = (shape: number[], values: number[]): SafeTensor => ({ dtype: 'float32', shape, data: Float32Array.from(values) });
const i32 = (shape: number[], values: number[]): SafeTensor => ({ dtype: 'int32', shape, data: Int32Array.from(values) });

describe('encodeSafetensors / decodeSafetensors round trip', () => {
  it('restores dtypes, shapes, values and metadata', () => {
    const tensors = {
      'rnn.W_xh': f32([2, 3], [0.5, -1, 2.25, 3e-8, -0, 1e30]),
      'rnn.b_h': f32([3], [1, 2, 3]),
      vocab_ids: i32([4], [0, -1, 2147483647, -2147483648]),
      scalar: f32([], [42]),
      empty: f32([0, 5], []),
    };
    const meta = { format: 'pt', vocab: '["<unk>"," ","a"]', epoch: '12' };
    const { tensors: back, metadata } = decodeSafetensors(encodeSafetensors(tensors, meta));
    expect(metadata).toEqual(meta);
    expect(Object.keys(back)).toEqual(Object.keys(tensors));
    for (const [name, t] of Object.entries(tensors)) {
      expect(back[name]!.dtype).toBe(t.dtype);
      expect(back[name]!.shape).toEqual(t.shape);
      expect(back[name]!.data).toBeInstanceOf(t.data.constructor as typeof Float32Array);
      expect(Array.from(back[name]!.data)).toEqual(Array.from(t.data));
    }
    expect(Object.is(back['rnn.W_xh']!.data[4], -0)).toBe(true);
  });

  it('keeps NaN and infinities bit for bit', () => {
    const bits = new Uint32Array([0x7fc00001, 0x7f800000, 0xff800000]);
    const data = new Float32Array(bits.buffer);
    const back = decodeSafetensors(encodeSafetensors({ x: { dtype: 'float32', shape: [3], data } })).tensors.x!;
    expect(Array.from(new Uint32Array(back.data.buffer))).toEqual(Array.from(bits));
  });

  it('encodes typed-array views with an offset, and decodes from an unaligned buffer', () => {
    const big = Float32Array.from([9, 9, 1, 2, 3]);
    const bytes = encodeSafetensors({ v: { dtype: 'float32', shape: [3], data: big.subarray(2) } });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const back = decodeSafetensors(shifted.subarray(3)).tensors.v!;
    expect(Array.from(back.data)).toEqual([1, 2, 3]);
  });

  it('omits __metadata__ when none is given and decodes it as {}', () => {
    const bytes = encodeSafetensors({ a: f32([1], [1]) });
    expect(new TextDecoder().decode(bytes)).not.toContain('__metadata__');
    expect(decodeSafetensors(bytes).metadata).toEqual({});
  });

  it('handles a file with no tensors', () => {
    expect(decodeSafetensors(encodeSafetensors({}, { note: 'empty' }))).toEqual({ tensors: {}, metadata: { note: 'empty' } });
  });

  it('stores a tensor named __proto__ as an ordinary own key', () => {
    const tensors: Record<string, SafeTensor> = {};
    Object.defineProperty(tensors, '__proto__', { value: f32([1], [5]), enumerable: true });
    const back = decodeSafetensors(encodeSafetensors(tensors)).tensors;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
  });
});

describe('byte layout', () => {
  it('matches a hand-assembled file: length field, space padding, 8-byte aligned data, offsets', () => {
    const bytes = encodeSafetensors({ a: f32([2], [1.5, -2]), b: i32([1], [7]) }, { format: 'pt' });
    const header =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]},' +
      '"__metadata__":{"format":"pt"}}';
    expect(header.length).toBe(139);
    const n = 144; // 139 rounded up to a multiple of 8
    const expected = new Uint8Array(8 + n + 12);
    expected.set([n, 0, 0, 0, 0, 0, 0, 0], 0); // u64 little-endian
    expected.set(new TextEncoder().encode(header), 8);
    expected.fill(0x20, 8 + 139, 8 + n); // five spaces of padding
    expected.set([0x00, 0x00, 0xc0, 0x3f], 8 + n); // 1.5f = 0x3FC00000
    expected.set([0x00, 0x00, 0x00, 0xc0], 8 + n + 4); // -2f = 0xC0000000
    expected.set([0x07, 0x00, 0x00, 0x00], 8 + n + 8); // int32 7
    expect(Array.from(bytes)).toEqual(Array.from(expected));
    expect((8 + n) % 8).toBe(0);
  });

  it('pads every header so the data starts on an 8-byte boundary', () => {
    for (let len = 1; len <= 12; len++) {
      const bytes = encodeSafetensors({ ['x'.repeat(len)]: f32([1], [1]) });
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect((8 + n) % 8).toBe(0);
      expect(bytes.length).toBe(8 + n + 4);
    }
  });

  it('reads a file whose header is not padded (other writers may not pad)', () => {
    const data = new Uint8Array(new Float32Array([3]).buffer);
    const file = assemble({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data, false);
    expect(Array.from(decodeSafetensors(file).tensors.t!.data)).toEqual([3]);
  });
});

describe('encode rejects bad input', () => {
  it.each([
    ['unknown dtype', { a: { dtype: 'float16', shape: [1], data: new Float32Array(1) } }, /tensor "a": unsupported dtype "float16"/],
    ['dtype/data mismatch', { a: { dtype: 'int32', shape: [1], data: new Float32Array(1) } }, /needs a Int32Array, got Float32Array/],
    ['negative dim', { a: { dtype: 'float32', shape: [-1], data: new Float32Array(1) } }, /shape \[-1\] must be an array of non-negative integers/],
    ['length mismatch', { a: { dtype: 'float32', shape: [2, 2], data: new Float32Array(3) } }, /holds 4 elements but data has 3/],
    ['reserved name', { __metadata__: { dtype: 'float32', shape: [1], data: new Float32Array(1) } }, /invalid tensor name "__metadata__"/],
  ])('%s', (_label, tensors, fragment) => {
    expectCheckpointError(() => encodeSafetensors(tensors as unknown as Record<string, SafeTensor>), fragment);
  });

  it('non-string metadata', () => {
    expectCheckpointError(
      () => encodeSafetensors({}, { epoch: 3 } as unknown as Record<string, string>),
      /metadata "epoch" must be a string, got number 3/,
    );
  });
});

describe('decode rejects corrupt files', () => {
  const four = new Uint8Array(4);
  const ok = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };

  it.each<[string, () => Uint8Array, string | RegExp]>([
    ['an empty file', () => new Uint8Array(0), /0 bytes, expected at least 8/],
    ['a 7-byte file', () => new Uint8Array(7), /7 bytes, expected at least 8/],
    [
      'a header length past the end of the file',
      () => {
        const b = assemble({}, new Uint8Array(0));
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      },
      /header length 1000 exceeds the file: only 8 bytes follow/,
    ],
    [
      'a header length of 2^64-1',
      () => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
        return b;
      },
      /header length 18446744073709551615 exceeds the limit of 100000000 bytes/,
    ],
    ['a header that is not UTF-8', () => withHeaderBytes([0x7b, 0xff, 0xfe, 0x7d]), /not valid UTF-8/],
    ['a header that is not JSON', () => assemble('{"a": '), /not valid JSON/],
    ['a header that is an array', () => assemble('[1,2]'), /must be a JSON object, got \[1,2\]/],
    ['a header that is null', () => assemble('null'), /must be a JSON object, got null/],
    ['JavaScript instead of JSON', () => assemble('{a: (() => 1)()}'), /not valid JSON/],
    ['an entry that is not an object', () => assemble({ w: 5 }), /tensor "w": expected \{dtype, shape, data_offsets\}, got 5/],
    ['an unknown dtype', () => assemble({ w: { ...ok, dtype: 'BF16' } }, four), /tensor "w": unsupported dtype "BF16", expected "F32" or "I32"/],
    ['a missing dtype', () => assemble({ w: { shape: [1], data_offsets: [0, 4] } }, four), /tensor "w": unsupported dtype nothing/],
    ['a shape that is not an array', () => assemble({ w: { ...ok, shape: 4 } }, four), /tensor "w": shape 4 must be an array of non-negative integers/],
    ['a negative dimension', () => assemble({ w: { ...ok, shape: [-1] } }, four), /tensor "w": shape \[-1\]/],
    ['a fractional dimension', () => assemble({ w: { ...ok, shape: [1.5] } }, four), /tensor "w": shape \[1.5\]/],
    ['a string dimension', () => assemble({ w: { ...ok, shape: ['1'] } }, four), /tensor "w": shape \["1"\]/],
    ['offsets that are not a pair', () => assemble({ w: { ...ok, data_offsets: [0] } }, four), /tensor "w": data_offsets \[0\] must be \[begin, end\]/],
    ['negative offsets', () => assemble({ w: { ...ok, data_offsets: [-4, 0] } }, four), /tensor "w": data_offsets \[-4,0\]/],
    ['offsets that end before they begin', () => assemble({ w: { ...ok, data_offsets: [4, 0] } }, four), /tensor "w": data_offsets \[4, 0\] end before they begin/],
    [
      'offsets that do not match the shape',
      () => assemble({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(20)),
      /tensor "w": data_offsets \[0, 20\] cover 20 bytes, but F32 shape \[2,3\] needs 24/,
    ],
    [
      'offsets out of bounds',
      () => assemble({ w: { dtype: 'F32', shape: [1], data_offsets: [100, 104] } }, four),
      /tensor "w": data is truncated: data_offsets end at byte 104, but the file holds only 4 data bytes/,
    ],
    [
      'truncated data',
      () => assemble({ a: ok, b: { dtype: 'I32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(10)),
      /tensor "b": data is truncated: data_offsets end at byte 12, but the file holds only 10/,
    ],
    [
      'overlapping tensors',
      () =>
        assemble(
          { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } },
          new Uint8Array(8),
        ),
      /tensor "b": data_offsets \[4, 8\] overlap tensor "a" \[0, 8\]/,
    ],
    [
      'a gap between tensors',
      () => assemble({ a: ok, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(12)),
      /tensor "b": data_offsets \[8, 12\] leave a gap of 4 unused bytes/,
    ],
    ['trailing bytes', () => assemble({ a: ok }, new Uint8Array(6)), /2 trailing bytes after the last tensor/],
    ['metadata that is not an object', () => assemble({ __metadata__: 'x' }), /"__metadata__" must be an object of strings, got "x"/],
    ['metadata with a non-string value', () => assemble({ __metadata__: { epoch: 3 } }), /metadata "epoch" must be a string, got 3/],
  ])('%s', (_label, make, fragment) => {
    expectCheckpointError(() => decodeSafetensors(make()), fragment);
  });

  it('checks maxHeaderBytes before touching the header', () => {
    const file = encodeSafetensors({ a: f32([1], [1]) });
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect(decodeSafetensors(file, { maxHeaderBytes: n }).tensors.a).toBeDefined();
    // A header that would not even parse still fails on size first: nothing was decoded.
    const junk = assemble('x'.repeat(64));
    expectCheckpointError(() => decodeSafetensors(junk, { maxHeaderBytes: 16 }), /header length 64 exceeds the limit of 16 bytes/);
    expectCheckpointError(() => decodeSafetensors(file, { maxHeaderBytes: -1 }), /maxHeaderBytes must be a non-negative integer, got -1/);
  });

  it('treats the header as data only (no code is ever run)', () => {
    const g = globalThis as { pwned?: boolean };
    const file = assemble({ __metadata__: { x: 'globalThis.pwned = true' }, constructor: { dtype: 'F32', shape: [0], data_offsets: [0, 0] } });
    const { metadata, tensors } = decodeSafetensors(file);
    expect(metadata.x).toBe('globalThis.pwned = true');
    expect(tensors.constructor).toEqual({ dtype: 'float32', shape: [0], data: new Float32Array(0) });
    expect(g.pwned).toBeUndefined();
  });
});

/** A file whose header region holds exactly the given raw bytes. */
function withHeaderBytes(raw: number[]): Uint8Array {
  const out = new Uint8Array(8 + raw.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(raw.length), true);
  out.set(raw, 8);
  return out;
}

describe('saveSafetensors / loadSafetensors', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tinytape-st-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips through a file and leaves only the target behind', async () => {
    const path = join(dir, 'model.safetensors');
    await saveSafetensors(path, { w: f32([2], [1, 2]) }, { epoch: '1' });
    await saveSafetensors(path, { w: f32([2], [3, 4]) }, { epoch: '2' });
    const back = await loadSafetensors(path);
    expect(Array.from(back.tensors.w!.data)).toEqual([3, 4]);
    expect(back.metadata).toEqual({ epoch: '2' });
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('keeps the previous file when the directory is missing, and leaves no temp file', async () => {
    const path = join(dir, 'model.safetensors');
    await saveSafetensors(path, { w: f32([1], [7]) });
    const before = readFileSync(path);
    const bad = join(dir, 'missing', 'model.safetensors');
    await expect(saveSafetensors(bad, { w: f32([1], [8]) })).rejects.toThrow(CheckpointError);
    await expect(saveSafetensors(bad, { w: f32([1], [8]) })).rejects.toThrow(
      `cannot save checkpoint: cannot write "${bad}": directory "${join(dir, 'missing')}" does not exist`,
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('keeps the previous file when encoding fails', async () => {
    const path = join(dir, 'model.safetensors');
    await saveSafetensors(path, { w: f32([1], [7]) });
    const before = readFileSync(path);
    await expect(saveSafetensors(path, { w: { dtype: 'float32', shape: [2], data: new Float32Array(1) } })).rejects.toThrow(
      /holds 2 elements but data has 1/,
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('names the path when loading a missing or corrupt file', async () => {
    const missing = join(dir, 'nope.safetensors');
    await expect(loadSafetensors(missing)).rejects.toThrow(`cannot read checkpoint "${missing}": no such file`);
    const corrupt = join(dir, 'bad.safetensors');
    writeFileSync(corrupt, new Uint8Array(3));
    await expect(loadSafetensors(corrupt)).rejects.toThrow(`checkpoint "${corrupt}": not a safetensors file: 3 bytes`);
    await expect(loadSafetensors(dir)).rejects.toThrow(/it is a directory/);
  });
});
