/**
 * Batched matmul, two kernels:
 *
 * 'tiled' (GPUs, the default): a workgroup computes a BM x BN tile of out[b]; K is walked in BK-deep slabs that
 * the workgroup stages in workgroup memory (A slab as [BK][BM], B slab as [BK][BN]); each thread then
 * accumulates a TM x TN register block, rows `ty + r*WY` and columns `tx + c*WX` of the tile (strided,
 * so global stores stay coalesced across tx).
 *
 * transA/transB only change how the slabs are loaded (each load picks the thread-to-element mapping that
 * reads consecutive global addresses), never copy anything. The variant (tile config, transA, transB) is
 * baked into the shader; m, k, n and the batch strides are parameters.
 *
 * 'registers' (software adapters such as lavapipe): no workgroup memory; each thread accumulates a
 * 4 x 8 block straight from global memory. On a CPU-emulated GPU, workgroup memory and barriers are
 * pure overhead (the CPU caches already hold the operands), and this kernel runs 2-4x faster there.
 *
 * Parameter words: 0 m, 1 k, 2 n, 3 aBatchStride, 4 bBatchStride, 5 first batch index of this dispatch.
 */
import type { MatmulParams } from '../../backend.ts';
import { type GpuBuf, type GpuContext, prelude } from './context.ts';

export interface TileConfig {
  name: string;
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

/** 64x64 tiles, 4x4 per thread: the workhorse. */
export const TILE_LARGE: TileConfig = { name: 'L', BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 };
/** 32x32 tiles, 2x2 per thread: more workgroups when the output is small. */
export const TILE_SMALL: TileConfig = { name: 'S', BM: 32, BN: 32, BK: 16, TM: 2, TN: 2 };

export function matmulSource(cfg: TileConfig, transA: boolean, transB: boolean): string {
  const { BM, BN, BK, TM, TN } = cfg;
  const WX = BN / TN;
  const WY = BM / TM;
  const T = WX * WY;
  if ((BM * BK) % T !== 0 || (BN * BK) % T !== 0) throw new Error(`matmul tile ${cfg.name}: loads do not divide evenly`);
  const rs = [...Array(TM).keys()];
  const cs = [...Array(TN).keys()];

  let loads = '';
  for (let l = 0; l < (BM * BK) / T; l++) {
    // Row-major A [m][k]: consecutive threads walk k. Transposed A (stored [k][m]): they walk m.
    const map = transA ? `let i = e % ${BM}u; let kk = e / ${BM}u;` : `let kk = e % ${BK}u; let i = e / ${BK}u;`;
    const addr = transA ? `aOff + gp * M + gi` : `aOff + gi * K + gp`;
    loads += `    { let e = tid + ${l * T}u; ${map} let gi = row0 + i; let gp = k0 + kk;
      var v = 0.0; if (gi < M && gp < K) { v = a[${addr}]; } As[kk * ${BM}u + i] = v; }\n`;
  }
  for (let l = 0; l < (BN * BK) / T; l++) {
    // Row-major B [k][n]: consecutive threads walk n. Transposed B (stored [n][k]): they walk k.
    const map = transB ? `let kk = e % ${BK}u; let j = e / ${BK}u;` : `let j = e % ${BN}u; let kk = e / ${BN}u;`;
    const addr = transB ? `bOff + gj * K + gp` : `bOff + gp * N + gj`;
    loads += `    { let e = tid + ${l * T}u; ${map} let gj = col0 + j; let gp = k0 + kk;
      var v = 0.0; if (gj < N && gp < K) { v = b[${addr}]; } Bs[kk * ${BN}u + j] = v; }\n`;
  }

  const decl = rs.map((r) => cs.map((c) => `  var c${r}_${c} = 0.0;`).join('\n')).join('\n');
  const inner =
    rs.map((r) => `      let a${r} = As[kk * ${BM}u + ty + ${r * WY}u];`).join('\n') +
    '\n' +
    cs.map((c) => `      let b${c} = Bs[kk * ${BN}u + tx + ${c * WX}u];`).join('\n') +
    '\n' +
    rs.map((r) => cs.map((c) => `      c${r}_${c} = fma(a${r}, b${c}, c${r}_${c});`).join('\n')).join('\n');
  const stores = rs
    .map((r) => {
      const row = `  { let gi = row0 + ty + ${r * WY}u; if (gi < M) {\n`;
      const cols = cs
        .map((c) => `    { let gj = col0 + tx + ${c * WX}u; if (gj < N) { out[cOff + gi * N + gj] = c${r}_${c}; } }`)
        .join('\n');
      return `${row}${cols}\n  } }`;
    })
    .join('\n');

  return `${prelude([['a', 'r', 'f32'], ['b', 'r', 'f32'], ['out', 'w', 'f32']])}
var<workgroup> As: array<f32, ${BK * BM}>;
var<workgroup> Bs: array<f32, ${BK * BN}>;

@compute @workgroup_size(${WX}, ${WY})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p(0);
  let K = p(1);
  let N = p(2);
  let batch = wid.z + p(5);
  let aOff = batch * p(3);
  let bOff = batch * p(4);
  let cOff = batch * M * N;
  let row0 = wid.y * ${BM}u;
  let col0 = wid.x * ${BN}u;
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * ${WX}u + tx;
${decl}
  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {
${loads}    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
${inner}
    }
    workgroupBarrier();
  }
${stores}
}`;
}

/** Picks the tile: 64x64 unless that leaves too few workgroups to keep the device busy. */
export function pickTile(p: MatmulParams): TileConfig {
  const large = Math.ceil(p.m / 64) * Math.ceil(p.n / 64) * p.batch;
  return large >= 32 ? TILE_LARGE : TILE_SMALL;
}

/** WGSL for element (i, p) of op(A) and (p, j) of op(B). */
function aAt(transA: boolean, i: string, p: string): string {
  return transA ? `a[aOff + ${p} * M + ${i}]` : `a[aOff + ${i} * K + ${p}]`;
}
function bAt(transB: boolean, p: string, j: string): string {
  return transB ? `b[bOff + ${j} * K + ${p}]` : `b[bOff + ${p} * N + ${j}]`;
}

/** Register-blocked kernel without workgroup memory: thread (x, y) owns rows y*TM.., columns x*TN... */
export function registerSource(TM: number, TN: number, WX: number, WY: number, transA: boolean, transB: boolean): string {
  const rs = [...Array(TM).keys()];
  const cs = [...Array(TN).keys()];
  return `${prelude([['a', 'r', 'f32'], ['b', 'r', 'f32'], ['out', 'w', 'f32']])}
@compute @workgroup_size(${WX}, ${WY})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let M = p(0);
  let K = p(1);
  let N = p(2);
  let batch = wid.z + p(5);
  let aOff = batch * p(3);
  let bOff = batch * p(4);
  let cOff = batch * M * N;
  let row0 = gid.y * ${TM}u;
  let col0 = gid.x * ${TN}u;
  if (row0 >= M || col0 >= N) { return; }
  // Out-of-range rows/columns are clamped for loading and skipped when storing.
${rs.map((r) => `  let i${r} = min(row0 + ${r}u, M - 1u);`).join('\n')}
${cs.map((c) => `  let j${c} = min(col0 + ${c}u, N - 1u);`).join('\n')}
${rs.map((r) => cs.map((c) => `  var c${r}_${c} = 0.0;`).join('')).join('\n')}
  for (var k = 0u; k < K; k++) {
${rs.map((r) => `    let a${r} = ${aAt(transA, `i${r}`, 'k')};`).join('\n')}
${cs.map((c) => `    let b${c} = ${bAt(transB, 'k', `j${c}`)};`).join('\n')}
${rs.map((r) => cs.map((c) => `    c${r}_${c} = fma(a${r}, b${c}, c${r}_${c});`).join('')).join('\n')}
  }
${rs
  .map((r) =>
    cs.map((c) => `  if (row0 + ${r}u < M && col0 + ${c}u < N) { out[cOff + (row0 + ${r}u) * N + col0 + ${c}u] = c${r}_${c}; }`).join('\n'),
  )
  .join('\n')}
}`;
}

export type MatmulKernel = 'tiled' | 'registers';

export function matmul(ctx: GpuContext, a: GpuBuf, b: GpuBuf, out: GpuBuf, p: MatmulParams, kernel: MatmulKernel = 'tiled'): void {
  const total = p.batch * p.m * p.n;
  if (total === 0) return;
  const trans = `${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'}`;
  let key: string;
  let source: () => string;
  let gx: number;
  let gy: number;
  if (kernel === 'registers') {
    // 4 x 8 per thread; 8x8 threads (32 x 64 outputs) unless that leaves too few workgroups.
    const TM = 4;
    const TN = 8;
    const big = Math.ceil(p.m / 32) * Math.ceil(p.n / 64) * p.batch >= 16;
    const [WX, WY] = big ? [8, 8] : [4, 8];
    key = `matmul:reg${WX}x${WY}:${trans}`;
    source = () => registerSource(TM, TN, WX, WY, p.transA, p.transB);
    gx = Math.ceil(p.n / (TN * WX));
    gy = Math.ceil(p.m / (TM * WY));
  } else {
    const tile = pickTile(p);
    key = `matmul:${tile.name}:${trans}`;
    source = () => matmulSource(tile, p.transA, p.transB);
    gx = Math.ceil(p.n / tile.BN);
    gy = Math.ceil(p.m / tile.BM);
  }
  if (gx > 65535 || gy > 65535) throw new Error(`webgpu matmul: output ${p.m}x${p.n} needs more than 65535 tiles per axis`);
  for (let b0 = 0; b0 < p.batch; b0 += 65535) {
    const nb = Math.min(65535, p.batch - b0);
    ctx.run({
      key,
      source,
      params: [p.m, p.k, p.n, p.aBatchStride, p.bBatchStride, b0],
      bindings: [
        { buf: a, access: 'r' },
        { buf: b, access: 'r' },
        // Only a single dispatch covering every batch is known to write all of `out`.
        { buf: out, access: 'w', covers: b0 === 0 && nb === p.batch ? total : 0 },
      ],
      groups: [gx, gy, nb],
    });
  }
}
