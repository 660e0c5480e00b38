// The run report: files written, every image it shows is a decodable PNG, and
// index.html opens in headless Chromium (Debian's `chromium` package, installed by
// scripts/setup.sh) without console messages; a screenshot of it is taken.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import lib from './helpers/lib.mjs';
import { rng } from './helpers/ref.mjs';

const { viz } = lib;
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function makeRun() {
  const dir = mkdtempSync(join(tmpdir(), 'viz-report-'));
  const lines = [];
  for (const [stage, off] of [['baseline', 0], ['focusnet', 1.5]]) {
    for (let e = 1; e <= 4; e++) {
      lines.push(JSON.stringify({ stage, epoch: e, loss: 1.2 / e + off, train_acc: 70 + 4 * e + off, test_top1: 75 + 3 * e + off, test_top5: 97 + e / 2, lr: 0.1, images_per_s: 900, seconds: 10 }));
    }
  }
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ baseline: { top1: 87, top5: 99 }, focusnet: { top1: 88.5, top5: 99.2 } }));
  const r = rng(4);
  const labels = [], baseline = [], focusnet = [];
  for (let i = 0; i < 600; i++) {
    const t = Math.floor(r.next() * 10);
    labels.push(t);
    baseline.push(r.next() < 0.8 ? t : [6, 0, 4, 0, 2, 7, 0, 9, 6, 7][t]);
    focusnet.push(r.next() < 0.86 ? t : [6, 3, 4, 0, 2, 7, 2, 5, 6, 5][t]);
  }
  writeFileSync(join(dir, 'predictions.json'), JSON.stringify({ labels, baseline, focusnet, classes: CLASSES }));
  return dir;
}

function findChromium() {
  for (const c of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (c && existsSync(c)) return c;
  const w = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  return w.status === 0 ? w.stdout.trim() : null;
}

test('report: PNG charts and index.html, every image shown is a decodable PNG', async () => {
  const dir = makeRun();
  const res = await viz.buildReport(dir);
  for (const f of ['loss.png', 'accuracy.png', 'confusion_baseline.png', 'confusion_focusnet.png', 'confusion_diff.png', 'index.html']) {
    assert.ok(res.files.includes(f), `missing ${f}`);
  }
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const srcs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
  assert.is(srcs.length, 5);
  for (const s of srcs) {
    const c = viz.Canvas.readPng(join(dir, s));
    assert.ok(c.width > 100 && c.height > 100, `${s} is ${c.width}×${c.height}`);
  }
  // the pair tables and per-class accuracy reflect the predictions
  assert.match(html, /Confusion reduced most/);
  assert.match(html, /Ankle boot/);
  assert.match(html, /T-shirt\/top ↔ Shirt|Shirt ↔/);
});

test('report: index.html opens in headless Chromium without console messages, screenshot taken', () => {
  const chromium = findChromium();
  if (!chromium) {
    assert.unreachable('chromium is not installed: run `sh scripts/setup.sh` (installs Debian\'s chromium package) or `apt-get install -y chromium`');
  }
  const dir = makeRun();
  return viz.buildReport(dir).then(() => {
    const shot = join(dir, 'screenshot.png');
    const profile = mkdtempSync(join(tmpdir(), 'viz-chromium-'));
    const r = spawnSync(
      chromium,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
        `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', `--screenshot=${shot}`, '--window-size=1200,900', `file://${join(dir, 'index.html')}`],
      { encoding: 'utf8', timeout: 90_000 },
    );
    assert.ok(!r.error, `chromium did not run: ${r.error?.message}`);
    assert.is(r.status, 0, `chromium exited with ${r.status}:\n${(r.stderr || '').split('\n').filter((l) => !/dbus/i.test(l)).slice(-20).join('\n')}`);
    const consoleLines = (r.stderr || '').split('\n').filter((l) => /:CONSOLE|Uncaught/.test(l));
    assert.equal(consoleLines, [], `console messages from index.html:\n${consoleLines.join('\n')}`);
    assert.ok(existsSync(shot), 'no screenshot written');
    const img = viz.Canvas.readPng(shot);
    assert.is(img.width, 1200);
    assert.is(img.height, 900);
    // the page rendered something: a fair share of non-white pixels (text, charts)
    let dark = 0;
    for (let i = 0; i < img.data.length; i += 4) if (img.data[i] + img.data[i + 1] + img.data[i + 2] < 600) dark++;
    assert.ok(dark > 5000, `screenshot looks blank (${dark} non-white pixels)`);
  });
});

test.run();
