// Running sums of loss, top-1 and top-5 hits on the GPU (kernels/metrics.wgsl):
// one tiny dispatch per batch, read back only every few steps or at epoch end.
import src from '../../kernels/metrics.wgsl';
import { registerKernel, paramBlock, gpu } from '../gpu/index.js';
import { Tensor, keep, tensor, fillInPlace } from '../tensor/index.js';
import { OpError } from '../errors.js';

/** logits [rows, classes], whether a batch-mean loss is added */
const MetricsParams = paramBlock('train.metrics', { rows: 'u32', classes: 'u32', has_loss: 'bool' });
const METRICS = registerKernel({ name: 'train:metrics', code: src, file: 'kernels/metrics.wgsl', params: MetricsParams });

export interface MetricSums {
  /** mean loss over the counted rows (NaN when no loss was added) */
  loss: number;
  /** percent */
  top1: number;
  top5: number;
  count: number;
  /** raw loss sum (non-finite when a step diverged) */
  lossSum: number;
}

export class MetricAccumulator {
  private acc: Tensor;
  private withLoss = false;
  constructor() {
    this.acc = keep(tensor(new Float32Array(4), [4]));
  }

  reset(): void {
    fillInPlace(this.acc, 0);
    this.withLoss = false;
  }

  /** Add one batch: logits [B, N] f32, labels [B] i32, optional scalar loss (the batch mean). */
  add(logits: Tensor, labels: Tensor, loss?: Tensor | null): void {
    if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
      throw new OpError('metrics', `expects logits [B, N] and labels [B], got [${logits.shape}] and [${labels.shape}]`);
    }
    if (loss) this.withLoss = true;
    gpu().dispatch({
      kernel: METRICS,
      label: 'metrics',
      params: { rows: logits.shape[0], classes: logits.shape[1], has_loss: !!loss },
      bindings: [logits.slice('metrics'), labels.slice('metrics'), loss ? loss.slice('metrics') : gpu().placeholder(), this.acc.slice('metrics')],
      workgroups: [1],
    });
  }

  async read(): Promise<MetricSums> {
    const [l, c1, c5, n] = (await this.acc.read()) as Float32Array;
    return {
      loss: this.withLoss && n > 0 ? l / n : NaN,
      lossSum: l,
      top1: n > 0 ? (100 * c1) / n : 0,
      top5: n > 0 ? (100 * c5) / n : 0,
      count: n,
    };
  }

  dispose(): void {
    this.acc.dispose();
  }
}
