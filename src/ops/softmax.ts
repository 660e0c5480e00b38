// Softmax and log-softmax over the last dimension (kernels/softmax.wgsl, uniform block
// SoftmaxParams: the tensor as rows of row_length values).

import src from '../../kernels/softmax.wgsl';
import { registerKernel, instantiate, paramBlock, grid } from '../gpu/index.js';
import { Tensor } from '../tensor/index.js';
import { record } from '../autograd/tape.js';
import { checkF32, gpu, out, OpError, normAxis, shapeStr } from './common.js';

const FILE = 'kernels/softmax.wgsl';
const SoftmaxParams = paramBlock('softmax', { rows: 'u32', row_length: 'u32' });
const K = {
  fwd: registerKernel({ name: 'softmax:fwd', code: instantiate(src, 'FWD'), file: FILE, params: SoftmaxParams }),
  bwd: registerKernel({ name: 'softmax:bwd', code: instantiate(src, 'BWD'), file: FILE, params: SoftmaxParams }),
};

function rowsOf(x: Tensor, axis: number, op: string): [number, number] {
  const a = normAxis(op, axis, x.rank, x.shape);
  if (a !== x.rank - 1) throw new OpError(op, `only the last axis is supported, got axis ${axis} for ${shapeStr(x.shape)}`);
  const n = x.shape[x.rank - 1];
  if (n === 0) throw new OpError(op, `empty last axis in ${shapeStr(x.shape)}`);
  return [x.size / n, n];
}

function run(x: Tensor, axis: number, log: boolean): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  checkF32(x, op, 'x');
  const [rows, n] = rowsOf(x, axis, op);
  const y = out(x.shape);
  const params = { rows, row_length: n };
  const constants = { LOG: log ? 1 : 0 };
  // one invocation per row, workgroup 64
  gpu().dispatch({ kernel: K.fwd, label: op, constants, params, bindings: [x.slice(op), y.slice(op)], workgroups: grid(rows, 64) });
  record(op, [x], y, [y], (g, [sy]) => {
    const dx = out(g.shape);
    gpu().dispatch({ kernel: K.bwd, label: `${op}_backward`, constants, params, bindings: [g.slice(op), sy.slice(op), dx.slice(op)], workgroups: grid(rows, 64) });
    return [dx];
  });
  return y;
}

export const softmax = (x: Tensor, axis = -1): Tensor => run(x, axis, false);
export const logSoftmax = (x: Tensor, axis = -1): Tensor => run(x, axis, true);
