/**
 * Elementwise sugar over GraphBuilder for the analytic parts of the portrait graph: each call adds
 * one node and returns its output name. Numbers become cached scalar initializers.
 */
import { GraphBuilder } from './graph-builder.js';

export type V = string | number;

export class Ops {
  private readonly consts = new Map<number, string>();

  constructor(readonly g: GraphBuilder) {}

  c(x: V): string {
    if (typeof x === 'string') return x;
    let name = this.consts.get(x);
    if (!name) {
      name = this.g.scalar('k', x);
      this.consts.set(x, name);
    }
    return name;
  }

  add(a: V, b: V): string { return this.g.node('Add', [this.c(a), this.c(b)]); }
  sub(a: V, b: V): string { return this.g.node('Sub', [this.c(a), this.c(b)]); }
  mul(a: V, b: V): string { return this.g.node('Mul', [this.c(a), this.c(b)]); }
  div(a: V, b: V): string { return this.g.node('Div', [this.c(a), this.c(b)]); }
  max(a: V, b: V): string { return this.g.node('Max', [this.c(a), this.c(b)]); }
  min(a: V, b: V): string { return this.g.node('Min', [this.c(a), this.c(b)]); }
  relu(a: V): string { return this.g.node('Relu', [this.c(a)]); }
  sqrt(a: V): string { return this.g.node('Sqrt', [this.c(a)]); }
  abs(a: V): string { return this.g.node('Abs', [this.c(a)]); }
  clip(a: V, lo: number, hi: number): string { return this.g.node('Clip', [this.c(a), this.c(lo), this.c(hi)]); }
  /** clip(a * k + b, 0, 1): a soft step (k = 1 / edge width in px). */
  ramp(a: V, k: number, b = 0.5): string { return this.clip(this.add(this.mul(a, k), b), 0, 1); }
  /** a * x + b with a, b tensors or numbers. */
  fma(a: V, x: V, b: V): string { return this.add(this.mul(a, x), b); }

  concat(xs: string[], axis: number): string { return this.g.node('Concat', xs, { axis }); }

  /** Slice rows [y0, y0+h) and columns [x0, x0+w) of an NCHW tensor. */
  sliceHW(x: string, y0: number, x0: number, h: number, w: number): string {
    return this.g.node('Slice', [x, this.g.int64s('st', [y0, x0]), this.g.int64s('en', [y0 + h, x0 + w]), this.g.int64s('ax', [2, 3])]);
  }

  /** Split a 1-D per-frame vector into scalars of shape [1]. */
  scalars(x: string, count: number): string[] {
    return this.g.nodeN('Split', [x], { axis: 0, num_outputs: count }, count);
  }

  /** 1x1 convolution with fixed weights [out][in] (and optional bias). */
  conv1x1(x: string, weights: number[][], bias?: number[]): string {
    const co = weights.length, ci = weights[0]!.length;
    const wt = this.g.floats('w', weights.flat(), [co, ci, 1, 1]);
    const ins = [x, wt];
    if (bias) ins.push(this.g.floats('b', bias, [co]));
    return this.g.node('Conv', ins, { kernel_shape: [1, 1] });
  }

  /**
   * Every second row and column of an NCHW (axes 2, 3) or NHWC (axes 1, 2) tensor: the half-res
   * (chroma) version of a smooth map. Cheaper than AveragePool here (~100 us per call on 1 thread),
   * at the cost of a half-pixel offset on chroma that nobody sees.
   */
  half(x: string, axes: [number, number] = [2, 3]): string {
    const big = 1 << 30;
    return this.g.node('Slice', [x, this.g.int64s('st', [0, 0]), this.g.int64s('en', [big, big]), this.g.int64s('ax', axes), this.g.int64s('sp', [2, 2])]);
  }
}
