// Training in the page: Fashion-MNIST (served by the demo, or chosen files), a LeNet-5 baseline
// with cross-entropy, then a fresh LeNet-5 with the focus-picking loss next to the frozen
// baseline (lib/two-stage.mjs), with live loss and accuracy charts, progress, a stop button,
// and both models as the trainer's model files to download (what `focusnet eval` reads), or
// to open in the explorer. A stop or an error keeps the charts, the table and whatever model
// was trained so far (its file can still be downloaded).
import { $, el, showError, num, pct } from './lib/dom.mjs';
import { fetchBytes, fileBytes, servedIdx, idxRoles } from './lib/sources.mjs';
import { Stopped } from './lib/predict.mjs';
import { lineChart } from './lib/draw.mjs';
import { ARCH, optimizerFor, trainStage, modelFile } from './lib/two-stage.mjs';

const ROLES = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];
const TRAIN_SIZES = [2000, 10000, 60000];
const TEST_SIZES = [1000, 10000];
const STAGES = [
  { key: 'baseline', title: 'baseline', stageNum: 1, seed: 1 },
  { key: 'focusnet', title: 'FocusNet', stageNum: 2, seed: 2 },
];

export class Trainer {
  constructor(fn, { gpu, served, onExplore }) {
    this.fn = fn;
    this.gpu = gpu;
    this.served = served;
    this.onExplore = onExplore;
    this.root = $('train');
    this.errors = $('train-errors');
    this.busy = false;
    this.stopRequested = false;
    /** the last run: { ds, models: { baseline, focusnet }, opts, files: { key: { name, bytes, note } }, checks, epochs } */
    this.run = null;
    this.urls = [];
    this.drawPending = false;
    this.describeServed();
    this.fillSizes();
    this.wire();
    this.draw();
    if (!gpu.ok) {
      $('train-start').disabled = true;
      $('train-text').textContent = 'Needs WebGPU (see the note at the top).';
    }
  }

  describeServed() {
    const p = $('train-served');
    const idx = servedIdx(this.served, ROLES);
    if (idx) {
      p.textContent = `Served: ${this.served.data.name} from ${this.served.data.path} (${ROLES.map((r) => idx[r].name).join(', ')}).`;
    } else {
      p.textContent = this.served ? `No training data is served (${this.served.data.note}): choose the four IDX files below.` : 'This page was not opened through npm run demo: choose the four IDX files below.';
      p.classList.add('none');
      $('train-pick').open = true;
    }
  }

  fillSizes() {
    const soft = this.gpu.info?.isSoftware;
    const trainSel = $('train-size');
    for (const n of TRAIN_SIZES) trainSel.append(el('option', { value: n, text: n === 60000 ? `${num(n)} (all)` : num(n), selected: n === (soft ? 2000 : 10000) }));
    const testSel = $('test-size');
    for (const n of TEST_SIZES) testSel.append(el('option', { value: n, text: n === 10000 ? `${num(n)} (all)` : num(n), selected: n === (soft ? 1000 : 10000) }));
  }

  wire() {
    $('train-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.start();
    });
    $('train-stop').addEventListener('click', () => {
      this.stopRequested = true;
      $('train-stop').disabled = true;
      $('train-text').textContent = 'Stopping after this step…';
    });
    $('train-explore').addEventListener('click', () => this.explore());
  }

  setState(s) {
    this.root.dataset.state = s;
  }

  /** The learning rate field, checked (an error naming the field). */
  learningRate() {
    const raw = $('train-lr').value.trim();
    const lr = Number(raw);
    if (raw === '' || !Number.isFinite(lr) || lr <= 0 || lr > 1) throw new Error(`Learning rate: "${raw}" is not a number in (0, 1]; the default is 0.05.`);
    return lr;
  }

  async dataset() {
    const { fn } = this;
    const picked = [...$('pick-train').files];
    if (picked.length) {
      const files = idxRoles(fn, await Promise.all(picked.map((f) => fileBytes(fn, f))), ROLES);
      return { ds: fn.data.idxDataset(files, 'chosen files'), folderName: '' };
    }
    const idx = servedIdx(this.served, ROLES);
    if (!idx) throw new Error('Training data: none chosen, and the demo serves none; choose the four IDX files (train-/t10k- images and labels) under “Or choose the data files from this computer”.');
    $('train-text').textContent = 'Downloading the data…';
    const files = Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, await fetchBytes(fn, idx[r].url, idx[r].name)])));
    return { ds: fn.data.idxDataset(files, this.served.data.path), folderName: this.served.data.name };
  }

  /** Free the previous run's models, optimizers and download links. */
  release() {
    const r = this.run;
    if (r) {
      for (const m of Object.values(r.models)) m?.dispose();
      for (const o of r.opts) o.dispose();
    }
    for (const u of this.urls) URL.revokeObjectURL(u);
    this.urls = [];
    for (const key of ['baseline', 'focusnet']) {
      const a = $(`dl-${key}`);
      a.removeAttribute('href');
      a.setAttribute('aria-disabled', 'true');
      a.textContent = `Download ${key}.safetensors`;
    }
    $('train-explore').disabled = true;
    this.run = null;
  }

  async start() {
    if (this.busy || !this.gpu.ok) return;
    const { fn } = this;
    let lr;
    try {
      lr = this.learningRate();
    } catch (e) {
      showError(this.errors, e);
      return;
    }
    this.busy = true;
    this.stopRequested = false;
    this.setState('loading');
    $('train-start').disabled = true;
    $('train-stop').disabled = false;
    const text = $('train-text');
    text.textContent = 'Reading the data…';
    let loaded;
    try {
      loaded = await this.dataset();
    } catch (e) {
      showError(this.errors, e);
      text.textContent = 'Not started (see the message).';
      this.finish(this.run?.status ?? 'error'); // a run shown before keeps its state
      return;
    }
    if (this.stopRequested) {
      text.textContent = 'Stopped before training began.';
      this.finish(this.run?.status ?? 'idle');
      return;
    }
    // a new run: what the last one left goes now (its files were offered for download)
    this.release();
    const { ds, folderName } = loaded;
    const trainN = Math.min(ds.train.n, Number($('train-size').value));
    const testN = Math.min(ds.test.n, Number($('test-size').value));
    const trainSplit = trainN < ds.train.n ? new fn.data.SubsetSplit(ds.train, trainN) : ds.train;
    const testSplit = testN < ds.test.n ? new fn.data.SubsetSplit(ds.test, testN) : ds.test;
    const epochs = Number($('train-epochs').value);
    const batchSize = Math.min(Number($('train-batch').value), trainSplit.n);
    const norm = fn.data.channelStats(trainSplit);
    const run = { ds, folderName, trainSplit, testSplit, norm, epochs, batchSize, lr, models: {}, opts: [], files: {}, checks: { baseline: [], focusnet: [] }, records: [], status: 'training' };
    this.run = run;
    $('epoch-table').tBodies[0].replaceChildren();
    $('epoch-empty').hidden = false;
    this.draw();
    const stepsPerEpoch = Math.max(1, Math.floor(trainSplit.n / batchSize));
    const totalSteps = 2 * epochs * stepsPerEpoch;
    const bar = $('train-progress');
    bar.value = 0;
    const note = `${num(trainSplit.n)} training images${trainN < Number($('train-size').value) ? ` (all there are)` : ''}, ${num(testSplit.n)} test images, batch ${batchSize}`;
    this.setState('training');
    const t0 = performance.now();
    let stage = STAGES[0];
    try {
      for (const [si, s] of STAGES.entries()) {
        stage = s;
        const model = fn.train.createModel(ARCH, { numClasses: ds.numClasses, inChannels: trainSplit.c, imageSize: trainSplit.h, seed: s.seed });
        run.models[s.key] = model;
        const opt = optimizerFor(fn, model, lr);
        run.opts.push(opt);
        run.current = s.key;
        await trainStage(fn, {
          model, opt, teacher: s.key === 'focusnet' ? run.models.baseline : null,
          trainSplit, testSplit, norm, epochs, batchSize, lr, stageNum: s.stageNum, seed: 1,
          shouldStop: () => this.stopRequested,
          onCheck: (c) => {
            run.checks[s.key].push(c);
            const done = si * epochs * stepsPerEpoch + c.epoch * stepsPerEpoch + c.step;
            bar.value = done / totalSteps;
            const elapsed = (performance.now() - t0) / 1000;
            const left = done > 0 ? (elapsed * (totalSteps - done)) / done : NaN;
            text.textContent = `${s.title}: epoch ${c.epoch + 1} of ${epochs}, step ${c.step} of ${c.steps}; loss ${c.loss.toFixed(3)}; ${c.imagesPerS.toFixed(0)} images/s${Number.isFinite(left) ? `; about ${duration(left)} left` : ''} (${note})`;
            this.scheduleDraw();
          },
          onEpoch: (rec) => {
            run.records.push({ stage: s.key, ...rec });
            this.addEpochRow(s, rec);
            this.scheduleDraw();
          },
        });
        await this.offer(s.key, `${s.title}, ${epochs} epoch${epochs > 1 ? 's' : ''} on ${num(trainSplit.n)} images`);
      }
      run.status = 'done';
      const last = (k) => run.records.filter((r) => r.stage === k).pop();
      text.textContent = `Done in ${duration((performance.now() - t0) / 1000)}: test top-1 baseline ${pct(last('baseline').top1)}, FocusNet ${pct(last('focusnet').top1)} on ${num(testSplit.n)} test images.`;
      bar.value = 1;
      this.finish('done');
    } catch (e) {
      const partial = !run.files[stage.key] && run.checks[stage.key].length > 0;
      if (partial) await this.offer(stage.key, `${stage.title}, stopped in epoch ${(run.checks[stage.key].at(-1)?.epoch ?? 0) + 1}`).catch((err) => showError(this.errors, err));
      if (e instanceof Stopped) {
        run.status = 'stopped';
        text.textContent = `Stopped during the ${stage.title} stage.${partial ? ` Its model as trained so far can be downloaded.` : ''}`;
        this.finish('stopped');
      } else {
        run.status = 'error';
        showError(this.errors, e);
        text.textContent = `Training failed during the ${stage.title} stage (see the message); the charts keep what was trained.`;
        this.finish('error');
      }
    }
  }

  finish(state) {
    this.busy = false;
    $('train-start').disabled = !this.gpu.ok;
    $('train-stop').disabled = true;
    $('train-explore').disabled = !(this.run?.files.baseline && this.run?.files.focusnet);
    this.setState(state);
    this.draw();
  }

  /** Make model `key`'s file and its download link. */
  async offer(key, note) {
    const run = this.run;
    const model = run.models[key];
    const bytes = await modelFile(this.fn, model, { stage: key, numClasses: run.ds.numClasses, split: run.trainSplit, norm: run.norm });
    const name = `${key}.safetensors`;
    run.files[key] = { name, bytes, note };
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    this.urls.push(url);
    const a = $(`dl-${key}`);
    a.href = url;
    a.removeAttribute('aria-disabled');
    a.textContent = `Download ${name} (${(bytes.length / 1024).toFixed(0)} kB; ${note})`;
  }

  explore() {
    const r = this.run;
    if (!r?.files.baseline || !r?.files.focusnet) return;
    this.onExplore({
      files: { baseline: { name: r.files.baseline.name, bytes: r.files.baseline.bytes }, focusnet: { name: r.files.focusnet.name, bytes: r.files.focusnet.bytes } },
      test: { split: r.ds.test },
      folderName: r.folderName,
    });
  }

  addEpochRow(s, rec) {
    $('epoch-empty').hidden = true;
    const td = (t) => el('td', { text: t });
    $('epoch-table').tBodies[0].append(el('tr', {}, el('td', { class: s.key, text: s.title }), td(String(rec.epoch)), td(rec.loss.toFixed(4)), td(pct(rec.trainAcc)), td(pct(rec.top1)), td(pct(rec.top5)), td(rec.imagesPerS.toFixed(0)), td(rec.seconds.toFixed(1))));
  }

  scheduleDraw() {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.draw();
    });
  }

  draw() {
    const { fn } = this;
    const r = this.run;
    const keys = ['baseline', 'focusnet'];
    // the planned epochs while training (the charts fill up); after a stop, what was trained
    const reached = r ? Math.max(0, ...Object.values(r.checks).flat().map((c) => c.x)) : 0;
    const xMax = !r ? 2 : r.status === 'stopped' || r.status === 'error' ? Math.max(reached, 1e-3) : r.epochs;
    const line = (k, f) => (r ? r.checks[k].map((c) => [c.x, f(c)]) : []);
    const dots = (k) => (r ? r.records.filter((e) => e.stage === k).map((e) => [e.epoch, e.top1]) : []);
    lineChart(fn, $('loss-chart'), { series: keys.map((k) => ({ kind: k, line: line(k, (c) => c.loss) })), xMax, xTitle: 'epoch', yTitle: 'loss', format: (v) => v.toFixed(2) });
    lineChart(fn, $('acc-chart'), { series: keys.map((k) => ({ kind: k, line: line(k, (c) => c.acc), dots: dots(k) })), xMax, yRange: [0, 100], xTitle: 'epoch', yTitle: 'accuracy (%)', format: (v) => String(v) });
    const say = (k, what, f) => {
      const c = r?.checks[k].at(-1);
      return c ? `${k === 'baseline' ? 'baseline' : 'FocusNet'} ${what} ${f(c)} at epoch ${c.x.toFixed(2)}` : null;
    };
    const lossText = keys.map((k) => say(k, 'loss', (c) => c.loss.toFixed(3))).filter(Boolean).join('; ');
    const accText = keys.map((k) => say(k, 'training accuracy', (c) => pct(c.acc))).filter(Boolean).join('; ');
    $('loss-chart').setAttribute('aria-label', `training loss: ${lossText || 'nothing trained yet'}`);
    $('acc-chart').setAttribute('aria-label', `accuracy: ${accText || 'nothing trained yet'}`);
  }

  /** What the trainer did, for tests and the console. */
  snapshot() {
    const r = this.run;
    if (!r) return null;
    return { status: r.status, trainImages: r.trainSplit.n, testImages: r.testSplit.n, batchSize: r.batchSize, checks: r.checks, epochs: r.records, files: Object.keys(r.files) };
  }
}

function duration(s) {
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  return `${Math.round(s / 60)} min`;
}
