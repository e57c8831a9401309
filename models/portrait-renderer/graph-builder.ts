/**
 * A small helper to build ONNX graphs in TypeScript and encode them (onnx-proto) into the bytes
 * that onnxruntime-node loads. Only what the portrait renderer needs: float / int64 / uint8
 * initializers, nodes with int / float / ints / floats / string attributes, typed inputs and outputs.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX TensorProto.DataType values used here. */
export const DType = { FLOAT: 1, UINT8: 2, INT64: 7, FLOAT16: 10 } as const;
export type DTypeValue = (typeof DType)[keyof typeof DType];

/** number = INT attribute; { f } = FLOAT; string; number[] = INTS; { floats } = FLOATS. */
export type AttrValue = number | { f: number } | string | number[] | { floats: number[] };

/** Default opset: 20 (GridSample with mode="linear", the warp test's reference; everything else here is older). */
export const DEFAULT_OPSET = 20;

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly graphName: string) {}

  /** A fresh value name with the given prefix. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`GraphBuilder: value name "${name}" is already used`);
    this.names.add(name);
    return name;
  }

  /** A graph input; a string dim is symbolic (a batch or frame count fixed at run time). */
  input(name: string, dtype: DTypeValue, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(this.claim(name), dtype, dims));
    return name;
  }

  /** Declare `value` a graph output (the value keeps its name). */
  output(value: string, dtype: DTypeValue, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(value, dtype, dims));
  }

  /** A float32 initializer; `dims` must multiply to data.length. */
  floats(prefix: string, data: Float32Array | number[], dims: number[]): string {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    checkSize(prefix, arr.length, dims);
    const name = this.fresh(prefix);
    this.initializers.push({
      name, dims, dataType: DType.FLOAT,
      rawData: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength),
    });
    return name;
  }

  /** An int64 initializer (shapes, axes, slice bounds). */
  int64s(prefix: string, data: number[], dims: number[] = [data.length]): string {
    checkSize(prefix, data.length, dims);
    const arr = BigInt64Array.from(data.map((v) => BigInt(v)));
    const name = this.fresh(prefix);
    this.initializers.push({
      name, dims, dataType: DType.INT64,
      rawData: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength),
    });
    return name;
  }

  /** A float scalar initializer (shape []). */
  scalar(prefix: string, value: number): string {
    return this.floats(prefix, [value], []);
  }

  /**
   * Add a node; returns its output names (`outputs` of them, freshly named from `op` unless
   * `names` gives them).
   */
  nodeN(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1, names?: string[]): string[] {
    const outs = names ? names.map((n) => this.claim(n)) : Array.from({ length: outputs }, () => this.fresh(op.toLowerCase()));
    this.nodes.push({
      opType: op,
      name: this.fresh(`n_${op}`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Add a single-output node; returns the output name (or `name` if given). */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, name?: string): string {
    return this.nodeN(op, inputs, attrs, 1, name ? [name] : undefined)[0]!;
  }

  /** Op types of the nodes, in order (for reports and tests). */
  nodeList(): string[] {
    return this.nodes.map((n) => n.opType ?? '?');
  }

  /** Encode the model. */
  build(opset = DEFAULT_OPSET, producerName = 'kiosk-avatar-server portrait-renderer'): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName,
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function checkSize(name: string, length: number, dims: number[]): void {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== length) throw new Error(`GraphBuilder: initializer ${name} has ${length} values but dims [${dims}] hold ${n}`);
}

function valueInfo(name: string, dtype: DTypeValue, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: dtype, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`GraphBuilder: INT attribute ${name} = ${v} is not an integer (use { f })`);
    return { name, type: T.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('f' in v) return { name, type: T.FLOAT, f: v.f };
  return { name, type: T.FLOATS, floats: v.floats };
}
