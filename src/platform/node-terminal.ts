// Node's side of the seam's terminal (platform.ts Terminal): stderr, and cli-progress's bar on it.
import cliProgress from 'cli-progress';
import type { Terminal } from './platform.js';

export const nodeTerminal: Terminal = {
  get isTTY() {
    return !!process.stderr.isTTY;
  },
  write: (text) => void process.stderr.write(text),
  bar(format, total, fields) {
    const bar = new cliProgress.SingleBar(
      { format, stream: process.stderr, hideCursor: true, etaBuffer: 50, clearOnComplete: true, noTTYOutput: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, fields);
    return { update: (done, f) => bar.update(done, f), stop: () => bar.stop() };
  },
};
