// Progress of an epoch: a cli-progress bar on a terminal (images/s, loss, ETA),
// plain lines otherwise (CI logs, pipes), or nothing.
import cliProgress from 'cli-progress';

export type ProgressMode = 'auto' | 'bar' | 'plain' | 'none';

export interface ProgressUpdate {
  done: number;
  loss: number;
  imagesPerS: number;
}

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private total = 0;
  private label = '';
  private started = 0;
  private lastLine = 0;
  private readonly mode: 'bar' | 'plain' | 'none';
  constructor(mode: ProgressMode = 'auto', private readonly out: NodeJS.WriteStream = process.stderr) {
    this.mode = mode === 'auto' ? (out.isTTY ? 'bar' : 'plain') : mode;
  }

  start(label: string, total: number): void {
    this.total = total;
    this.label = label;
    this.started = performance.now();
    this.lastLine = this.started;
    if (this.mode === 'bar') {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${label} |{bar}| {value}/{total} steps | loss {loss} | {ips} img/s | ETA {eta_formatted}`,
          stream: this.out,
          hideCursor: true,
          etaBuffer: 50,
          clearOnComplete: true,
          noTTYOutput: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { loss: '-', ips: '-' });
    }
  }

  update(u: ProgressUpdate): void {
    const loss = Number.isFinite(u.loss) ? u.loss.toFixed(4) : String(u.loss);
    const ips = u.imagesPerS.toFixed(0);
    if (this.bar) this.bar.update(u.done, { loss, ips });
    else if (this.mode === 'plain') {
      const now = performance.now();
      // a line every 15 s at most, so logs stay short
      if (now - this.lastLine < 15000 && u.done < this.total) return;
      this.lastLine = now;
      const el = (now - this.started) / 1000;
      const eta = u.done > 0 ? (el * (this.total - u.done)) / u.done : NaN;
      this.out.write(`${this.label} step ${u.done}/${this.total}  loss ${loss}  ${ips} img/s  ETA ${Number.isFinite(eta) ? eta.toFixed(0) + 's' : '-'}\n`);
    }
  }

  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
  }
}
