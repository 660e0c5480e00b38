// Softmax and log-softmax over the last dimension (kernels/softmax.wgsl).

import src from '../../kernels/softmax.wgsl';
import { registerKernel } from '../gpu/index.js';
import { instantiate } from '../gpu/index.js';
import { Tensor } from '../tensor/index.js';
import { record } from '../autograd/tape.js';
import { checkF32, launch1d, out, OpError, normAxis, shapeStr } from './common.js';

const FILE = 'kernels/softmax.wgsl';
registerKernel('softmax:fwd', instantiate(src, 'FWD'), FILE);
registerKernel('softmax:bwd', instantiate(src, 'BWD'), FILE);

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
  launch1d(rows, { module: 'softmax:fwd', label: op, constants: { LOG: log ? 1 : 0 }, bindings: [x.slice(op), y.slice(op)], u: [rows, n, 0, 0] }, 64);
  record(op, [x], y, [y], (g, [sy]) => {
    const dx = out(g.shape);
    launch1d(rows, { module: 'softmax:bwd', label: `${op}_backward`, constants: { LOG: log ? 1 : 0 }, bindings: [g.slice(op), sy.slice(op), dx.slice(op)], u: [rows, n, 0, 0] }, 64);
    return [dx];
  });
  return y;
}

export const softmax = (x: Tensor, axis = -1): Tensor => run(x, axis, false);
export const logSoftmax = (x: Tensor, axis = -1): Tensor => run(x, axis, true);
