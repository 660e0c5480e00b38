// Progress of an epoch: a progress bar on a terminal (images/s, loss, ETA; the host's, see
// src/platform), plain lines otherwise (CI logs, pipes, a page's console), or nothing.
import { platform, type ProgressBar, type Terminal } from '../platform/platform.js';

export type ProgressMode = 'auto' | 'bar' | 'plain' | 'none';

export interface ProgressUpdate {
  done: number;
  loss: number;
  imagesPerS: number;
}

export class Progress {
  private bar: ProgressBar | null = null;
  private total = 0;
  private label = '';
  private started = 0;
  private lastLine = 0;
  private readonly mode: 'bar' | 'plain' | 'none';
  constructor(mode: ProgressMode = 'auto', private readonly out: Terminal = platform().terminal) {
    this.mode = mode === 'auto' ? (out.isTTY ? 'bar' : 'plain') : mode;
  }

  start(label: string, total: number): void {
    this.total = total;
    this.label = label;
    this.started = performance.now();
    this.lastLine = this.started;
    if (this.mode === 'bar') {
      // null where the host has no bar (a page): plain lines then
      this.bar = this.out.bar(`${label} |{bar}| {value}/{total} steps | loss {loss} | {ips} img/s | ETA {eta_formatted}`, total, { loss: '-', ips: '-' });
    }
  }

  update(u: ProgressUpdate): void {
    const loss = Number.isFinite(u.loss) ? u.loss.toFixed(4) : String(u.loss);
    const ips = u.imagesPerS.toFixed(0);
    if (this.bar) this.bar.update(u.done, { loss, ips });
    else if (this.mode !== 'none') {
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
