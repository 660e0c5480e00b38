// The confusion explorer: a run's baseline and FocusNet checkpoints (served by the demo, chosen
// with the file pickers, or trained on the other tab) on the test images. Both models predict
// every scanned image on the GPU; the images where they disagree are listed (and which one is
// right); for a chosen image the detail view shows both models' top-k probabilities, the
// baseline's multi-warm label and the class activation maps of the confusing classes side by
// side. Opening new files replaces what is shown only once they have loaded and scanned: an
// error or a stop leaves the previous comparison in place.
import { $, el, showError, clearErrors, num, pct } from './lib/dom.mjs';
import { fetchBytes, fileBytes, servedCheckpoints, servedIdx, idxRoles, classNames } from './lib/sources.mjs';
import { readCheckpoint, classesOf, buildPair, disposePair } from './lib/models.mjs';
import { predictSplit, disagreements, whoIsRight, accuracy, Stopped } from './lib/predict.mjs';
import { inspect, imageOf } from './lib/inspect.mjs';
import { paint } from './lib/draw.mjs';
import { renderDetail, sizeFor } from './lib/detail-view.mjs';

const PAGE = 100;
const SCAN_COUNTS = [1000, 2000, 5000];

export class Explorer {
  constructor(fn, { gpu, served }) {
    this.fn = fn;
    this.gpu = gpu;
    this.served = served;
    this.root = $('explore');
    this.errors = $('explore-errors');
    /** what is shown: { pair, norms, split, total, folderName, files, preds, list } */
    this.current = null;
    this.busy = false;
    this.stopRequested = false;
    this.shown = PAGE;
    this.selected = null;
    this.lastDetail = null;
    this.detailRun = Promise.resolve();
    this.detailToken = 0;
    this.describeServed();
    this.fillScanCounts();
    this.wire();
    if (!gpu.ok) {
      $('explore-open').disabled = true;
      $('scan-text').textContent = 'Needs WebGPU (see the note at the top).';
    }
  }

  /** Whether the demo serves both checkpoints and the test images (the page then opens them at once). */
  get canOpenServed() {
    return !!(servedCheckpoints(this.served) && servedIdx(this.served, ['testImages', 'testLabels']));
  }

  describeServed() {
    const p = $('explore-served');
    const s = this.served;
    if (!s) {
      p.textContent = 'This page was not opened through npm run demo, so nothing is served: choose the files below.';
      p.classList.add('none');
      $('explore-pick').open = true;
      return;
    }
    const ck = servedCheckpoints(s);
    const test = servedIdx(s, ['testImages', 'testLabels']);
    const run = ck ? `Served: ${ck.baseline.name} and ${ck.focusnet.name} from ${s.run.path}` : `The demo serves no run (${s.run.note})`;
    const data = test ? `test images from ${s.data.path}` : `no test images (${s.data.note})`;
    const todo = ck && test ? '' : ` Choose the files below${ck ? '' : ', or train a run on the “Train in the page” tab (or with npm run train -- --data DIR --out runs/focusnet)'}.`;
    p.textContent = `${run}; ${data}.${todo}`;
    if (!ck || !test) {
      p.classList.add('none');
      $('explore-pick').open = true;
    }
  }

  fillScanCounts() {
    const sel = $('scan-count');
    const soft = this.gpu.info?.isSoftware;
    for (const n of SCAN_COUNTS) sel.append(el('option', { value: n, text: `first ${num(n)}`, selected: soft && n === 1000 }));
    sel.append(el('option', { value: 'all', text: 'all', selected: !soft }));
  }

  wire() {
    $('explore-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.open();
    });
    $('explore-stop').addEventListener('click', () => {
      this.stopRequested = true;
      $('explore-stop').disabled = true;
      $('scan-text').textContent = 'Stopping…';
    });
    for (const r of document.querySelectorAll('input[name="who"]')) r.addEventListener('change', () => this.renderList(true));
    $('filter-class').addEventListener('change', () => this.renderList(true));
    $('list-more').addEventListener('click', () => {
      this.shown += PAGE;
      this.renderList(false);
    });
    $('class-names').addEventListener('change', () => {
      if (!this.current) return;
      this.current.names = this.namesFor(this.current);
      this.renderSummary();
      this.renderClassFilter();
      this.renderList(false);
      if (this.lastDetail) this.renderDetail(this.lastDetail);
    });
    $('topk').addEventListener('change', () => this.lastDetail && this.renderDetail(this.lastDetail));
    for (const id of ['max-maps', 'cam-method']) $(id).addEventListener('change', () => this.selected !== null && this.select(this.selected));
    $('detail-prev').addEventListener('click', () => this.step(-1));
    $('detail-next').addEventListener('click', () => this.step(1));
  }

  setState(s) {
    this.root.dataset.state = s;
  }

  /** The files to open: chosen ones first, else the served ones, as { files, test, folderName }. */
  async gather() {
    const { fn } = this;
    const served = servedCheckpoints(this.served);
    const one = async (which, label) => {
      const picked = $(`pick-${which}`).files[0];
      if (picked) return fileBytes(fn, picked);
      if (served) return fetchBytes(fn, served[which].url, served[which].name);
      throw new Error(`${label}: none chosen, and the demo serves none; choose ${which}.safetensors under “Or choose files from this computer”.`);
    };
    const files = { baseline: await one('baseline', 'Baseline checkpoint'), focusnet: await one('focusnet', 'FocusNet checkpoint') };
    const picked = [...$('pick-test').files];
    if (picked.length) {
      const chosen = idxRoles(fn, await Promise.all(picked.map((f) => fileBytes(fn, f))), ['testImages', 'testLabels']);
      return { files, test: { images: chosen.testImages, labels: chosen.testLabels }, folderName: '' };
    }
    const idx = servedIdx(this.served, ['testImages', 'testLabels']);
    if (!idx) throw new Error('Test images: none chosen, and the demo serves none; choose the t10k images and labels (IDX) under “Or choose files from this computer”.');
    const [images, labels] = await Promise.all([fetchBytes(fn, idx.testImages.url, idx.testImages.name), fetchBytes(fn, idx.testLabels.url, idx.testLabels.name)]);
    return { files, test: { images, labels }, folderName: this.served.data.name };
  }

  /**
   * Open a pair of checkpoints with test images (the chosen or served files, or `source`: {
   * files: { baseline, focusnet } as { name, bytes }, test: { split } or { images, labels },
   * folderName }), scan them and show the comparison.
   */
  async open(source = null) {
    if (this.busy || !this.gpu.ok) return;
    const { fn } = this;
    this.busy = true;
    this.stopRequested = false;
    this.setState('loading');
    $('explore-open').disabled = true;
    $('explore-stop').disabled = false;
    const text = $('scan-text');
    const bar = $('scan-progress');
    text.textContent = 'Reading the files…';
    let pair = null;
    let failed = false;
    try {
      const src = source ?? (await this.gather());
      const cks = { baseline: readCheckpoint(fn, src.files.baseline), focusnet: readCheckpoint(fn, src.files.focusnet) };
      const numClasses = classesOf(cks.baseline);
      if (classesOf(cks.focusnet) !== numClasses) {
        throw new fn.DataError(src.files.focusnet.name, `is a model for ${classesOf(cks.focusnet)} classes, ${src.files.baseline.name} for ${numClasses}: the two must classify the same classes`);
      }
      const full = src.test.split ?? fn.data.idxSplit(src.test.images, src.test.labels, numClasses);
      pair = buildPair(fn, cks, { inChannels: full.c, imageSize: full.h, numClasses });
      const stats = pair.baseline.norm && pair.focusnet.norm ? null : fn.data.channelStats(full);
      const norms = { baseline: pair.baseline.norm ?? stats, focusnet: pair.focusnet.norm ?? stats };
      const want = $('scan-count').value === 'all' ? full.n : Number($('scan-count').value);
      const count = Math.min(full.n, want);
      const split = count < full.n ? new fn.data.SubsetSplit(full, count) : full;
      this.setState('scanning');
      bar.hidden = false;
      bar.value = 0;
      const t0 = performance.now();
      const show = (who, before, done) => {
        bar.value = (before + done) / (2 * count);
        text.textContent = `${who}: ${num(done)} of ${num(count)} test images…`;
      };
      const shouldStop = () => this.stopRequested;
      const pb = await predictSplit(fn, pair.baseline.model, split, norms.baseline, { onProgress: (d) => show('Baseline', 0, d), shouldStop });
      const pf = await predictSplit(fn, pair.focusnet.model, split, norms.focusnet, { onProgress: (d) => show('FocusNet', count, d), shouldStop });
      // everything loaded and scanned: only now does it replace what was shown
      this.closeCurrent();
      this.current = { pair, norms, split, total: full.n, folderName: src.folderName, files: { baseline: src.files.baseline.name, focusnet: src.files.focusnet.name }, preds: { baseline: pb, focusnet: pf }, list: disagreements(split.labels, pb, pf), noNorm: !!stats, numClasses };
      this.current.names = this.namesFor(this.current);
      pair = null;
      text.textContent = `Scanned ${num(count)} test images with both models in ${((performance.now() - t0) / 1000).toFixed(1)} s.`;
      this.shown = PAGE;
      $('explore-summary').hidden = false;
      $('explore-body').hidden = false;
      this.renderSummary();
      this.renderClassFilter();
      this.renderList(true);
      const first = this.visible()[0];
      if (first) this.select(first.index);
      else this.clearDetail('The two models agree on every scanned image: nothing to compare.');
    } catch (e) {
      if (e instanceof Stopped) text.textContent = `Stopped. ${this.current ? 'The comparison shown before is kept.' : 'Nothing was opened.'}`;
      else {
        failed = true;
        text.textContent = this.current ? 'Not opened (see the message); the comparison shown before is kept.' : 'Not opened (see the message).';
        showError(this.errors, e);
      }
    } finally {
      disposePair(pair);
      bar.hidden = true;
      this.busy = false;
      $('explore-open').disabled = false;
      $('explore-stop').disabled = true;
      this.setState(this.current ? 'ready' : failed ? 'error' : 'idle');
    }
  }

  closeCurrent() {
    if (!this.current) return;
    disposePair(this.current.pair);
    this.current = null;
    this.selected = null;
    this.lastDetail = null;
  }

  namesFor(cur) {
    return classNames(this.fn, $('class-names').value, cur.folderName, cur.numClasses);
  }

  renderSummary() {
    const c = this.current;
    const labels = c.split.labels;
    const accB = accuracy(labels, c.preds.baseline);
    const accF = accuracy(labels, c.preds.focusnet);
    const by = { focusnet: 0, baseline: 0, neither: 0 };
    for (const d of c.list) by[whoIsRight(d)]++;
    $('summary-count').textContent = c.split.n < c.total ? `the first ${num(c.split.n)} of ${num(c.total)}` : num(c.split.n);
    const stat = (cls, v, what) => el('div', { class: `stat ${cls}` }, el('span', { class: 'v', text: v }), what);
    $('summary-body').replaceChildren(
      el('div', { class: 'stats' },
        stat('baseline', pct(accB), `baseline top-1 (${c.pair.baseline.arch})`),
        stat('focusnet', pct(accF), `FocusNet top-1 (${c.pair.focusnet.arch})`),
        stat('', num(c.list.length), 'images where they disagree'),
        stat('focusnet', num(by.focusnet), 'of them FocusNet right'),
        stat('baseline', num(by.baseline), 'baseline right'),
        stat('', num(by.neither), 'neither right'),
      ),
      el('p', { class: 'muted', text: `Checkpoints ${c.files.baseline} and ${c.files.focusnet}; ${c.names.length} classes${c.noNorm ? '; a checkpoint records no normalisation, so the test images’ own statistics are used' : ''}.` }),
    );
  }

  renderClassFilter() {
    const sel = $('filter-class');
    const keep = sel.value;
    sel.replaceChildren(el('option', { value: '-1', text: 'any' }), ...this.current.names.map((n, i) => el('option', { value: i, text: n })));
    sel.value = [...sel.options].some((o) => o.value === keep) ? keep : '-1';
  }

  /** The disagreements the filters let through, in image order. */
  visible() {
    if (!this.current) return [];
    const who = document.querySelector('input[name="who"]:checked')?.value ?? 'all';
    const cls = Number($('filter-class').value);
    return this.current.list.filter((d) => (who === 'all' || whoIsRight(d) === who) && (cls < 0 || d.label === cls));
  }

  renderList(reset) {
    if (!this.current) return;
    if (reset) this.shown = PAGE;
    const { fn } = this;
    const c = this.current;
    const rows = this.visible();
    const name = (k) => c.names[k] ?? String(k);
    const verdict = (pred, label) => el('td', { class: pred === label ? 'right' : 'wrong', text: name(pred) });
    const body = $('list').tBodies[0];
    body.replaceChildren(...rows.slice(0, this.shown).map((d) => {
      const thumb = el('canvas', { width: c.split.w, height: c.split.h, 'aria-hidden': 'true' });
      paint(fn, thumb, imageOf(c.split, d.index), 1);
      const who = whoIsRight(d);
      const pick = el('button', {
        type: 'button', class: 'pick', 'data-index': d.index,
        'aria-label': `Test image ${d.index}: ${name(d.label)}; the baseline says ${name(d.baseline)}, FocusNet ${name(d.focusnet)} (${who === 'neither' ? 'neither is right' : `${who === 'focusnet' ? 'FocusNet' : 'the baseline'} is right`})`,
        onclick: () => this.select(d.index),
        onkeydown: (e) => this.listKey(e, d.index),
      }, thumb, `#${d.index}`);
      return el('tr', { class: d.index === this.selected ? 'selected' : '', 'data-index': d.index }, el('td', {}, pick), el('td', { text: name(d.label) }), verdict(d.baseline, d.label), verdict(d.focusnet, d.label));
    }));
    $('list-count').textContent = rows.length === c.list.length ? `${num(rows.length)} images` : `${num(rows.length)} of the ${num(c.list.length)} disagreements`;
    const more = $('list-more');
    more.hidden = rows.length <= this.shown;
    more.textContent = `Show more (${num(Math.min(PAGE, rows.length - this.shown))} of ${num(rows.length - this.shown)} left)`;
    this.updateNav();
  }

  /** Up/Down in the list move to the neighbouring image and show it. */
  listKey(e, index) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const to = this.neighbour(index, e.key === 'ArrowDown' ? 1 : -1);
    if (to === null) return;
    this.select(to);
    document.querySelector(`#list button.pick[data-index="${to}"]`)?.focus();
  }

  neighbour(index, dir) {
    const rows = this.visible();
    const i = rows.findIndex((d) => d.index === index);
    const j = i < 0 ? 0 : i + dir;
    if (j < 0 || j >= rows.length) return null;
    if (j >= this.shown) {
      this.shown += PAGE;
      this.renderList(false);
    }
    return rows[j].index;
  }

  step(dir) {
    if (this.selected === null) return;
    const to = this.neighbour(this.selected, dir);
    if (to !== null) this.select(to);
  }

  updateNav() {
    const rows = this.visible();
    const i = rows.findIndex((d) => d.index === this.selected);
    $('detail-prev').disabled = i <= 0;
    $('detail-next').disabled = i < 0 || i >= rows.length - 1;
  }

  clearDetail(message) {
    const d = $('detail');
    d.dataset.state = 'empty';
    $('detail-title').textContent = 'Choose an image';
    $('detail-placeholder').textContent = message;
    $('detail-placeholder').hidden = false;
    $('detail-body').hidden = true;
  }

  /** Show image `index` (the latest choice wins; computations run one after another). */
  select(index) {
    if (!this.current) return;
    this.selected = index;
    for (const tr of $('list').tBodies[0].rows) tr.classList.toggle('selected', Number(tr.dataset.index) === index);
    this.updateNav();
    const token = ++this.detailToken;
    const cur = this.current;
    const detail = $('detail');
    detail.dataset.state = 'computing';
    $('detail-title').textContent = `Test image ${index}`;
    const opts = { maxMaps: Number($('max-maps').value), method: $('cam-method').value, size: sizeFor(cur.split) };
    this.detailRun = this.detailRun.then(async () => {
      if (token !== this.detailToken || cur !== this.current) return; // a later choice replaced this one
      try {
        const r = await inspect(this.fn, cur.pair, cur.split, cur.norms, index, opts);
        if (token !== this.detailToken || cur !== this.current) return;
        clearErrors($('detail-errors'));
        this.lastDetail = r;
        this.renderDetail(r);
      } catch (e) {
        if (token !== this.detailToken) return;
        detail.dataset.state = 'error';
        showError($('detail-errors'), e, { prefix: `Test image ${index}: ` });
      }
    });
  }

  renderDetail(r) {
    renderDetail(this.fn, r, { names: this.current.names, size: sizeFor(this.current.split), k: Number($('topk').value) });
  }

  /** What the explorer shows, for tests and the console. */
  snapshot() {
    const c = this.current;
    if (!c) return null;
    const d = this.lastDetail;
    const range = (m) => ({ min: Math.min(...m), max: Math.max(...m) });
    return {
      scanned: c.split.n, files: c.files, disagreements: c.list.map((x) => ({ ...x })), selected: this.selected,
      detail: d && { index: d.index, classes: d.classes, maps: { baseline: d.baseline.maps.map(range), focusnet: d.focusnet.maps.map(range) } },
    };
  }
}
