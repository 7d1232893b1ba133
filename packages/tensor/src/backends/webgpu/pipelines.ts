/**
 * Compute pipelines and their layouts, created once and cached. A pipeline is keyed by a name that
 * spells the op and every variant baked into its shader; sizes and strides always travel as
 * parameters, so an unrolled RNN reuses a handful of pipelines. Layouts are keyed by the bindings'
 * access pattern (read-only or writable storage, after the uniform parameter slot).
 */
import type { Access } from './wgsl.ts';

const STAGE_COMPUTE = 0x4;

/** The bind-group layout of a binding list and the pipeline layout around it. */
export interface Layout {
  group: GPUBindGroupLayout;
  pipeline: GPUPipelineLayout;
}

/** Pipelines by key and layouts by access pattern, for one device. */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, Layout>();
  /** Pipelines compiled so far. */
  compiled = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The layout for bindings with these accesses (binding 0 is always the uniform parameter slot). */
  layoutFor(bindings: readonly { access: Access }[]): Layout {
    let sig = '';
    for (const b of bindings) sig += b.access === 'r' ? 'r' : 'w';
    let layout = this.layouts.get(sig);
    if (layout === undefined) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: STAGE_COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
      ];
      for (let i = 0; i < sig.length; i++) {
        entries.push({
          binding: i + 1,
          visibility: STAGE_COMPUTE,
          buffer: { type: sig[i] === 'r' ? 'read-only-storage' : 'storage' },
        });
      }
      const group = this.device.createBindGroupLayout({ entries });
      layout = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(sig, layout);
    }
    return layout;
  }

  /** The pipeline named `key`, compiled from `source()` on first use. */
  pipeline(key: string, source: () => string, bindings: readonly { access: Access }[]): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (p === undefined) {
      const module = this.device.createShaderModule({ label: key, code: source() });
      p = this.device.createComputePipeline({
        label: key,
        layout: this.layoutFor(bindings).pipeline,
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.set(key, p);
      this.compiled++;
    }
    return p;
  }

  /** Forgets every pipeline (the device is being destroyed). */
  clear(): void {
    this.pipelines.clear();
  }
}
