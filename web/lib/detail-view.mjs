// The explorer's detail view of one image (what lib/inspect.mjs computed): the image, both
// models' top-k probabilities, the baseline's multi-warm label, and the grid of class activation
// maps (rows: the true class, then the confusing ones; columns: image, baseline, FocusNet), as
// in the paper's Figures 1 and 2.
import { $, el } from './dom.mjs';
import { paint, bars } from './draw.mjs';
import { topK } from './inspect.mjs';

const TILE = 112;

/** The display size of maps and images: about 112 pixels, an integer multiple of the image's side. */
export function sizeFor(split) {
  const s = Math.max(1, Math.round(TILE / split.h));
  return [split.h * s, split.w * s];
}

/** Show `r` in #detail with class `names`, maps and images at `size`, the top `k` classes. */
export function renderDetail(fn, r, { names, size, k }) {
  const name = (i) => names[i] ?? String(i);
  const img = r.image;
  const scale = size[0] / img.h;
  $('detail-placeholder').hidden = true;
  $('detail-body').hidden = false;
  $('detail-title').textContent = `Test image ${r.index} · true class ${name(img.label)}`;
  paint(fn, $('detail-image'), img, scale);
  $('detail-caption').textContent = `true class: ${name(img.label)}`;
  const column = (who, title) => {
    const m = r[who];
    const top = topK(m.probs, k);
    const pred = top[0].k;
    return el('div', {},
      el('h4', { class: who, text: `${title}: ${name(pred)} ${pred === img.label ? '✓' : '✗'}` }),
      bars(top.map((t) => ({ name: name(t.k), value: t.p, text: t.p.toFixed(3), isTrue: t.k === img.label })), who, `${title}'s top ${k} probabilities`),
    );
  };
  $('probs').replaceChildren(column('baseline', 'Baseline'), column('focusnet', 'FocusNet'));
  const warm = [...r.warm.keys()].filter((i) => r.warm[i] > 0).sort((a, b) => r.baseline.logits[b] - r.baseline.logits[a]);
  $('warm').replaceChildren(
    el('h4', { text: 'The baseline’s multi-warm label' }),
    el('p', { text: `The classes the baseline finds plausible for this image (a positive logit) plus the true class, each weighted 1/${warm.length}: the target of FocusNet’s attention term while it trains.` }),
    bars(warm.map((i) => ({ name: name(i), value: r.warm[i], text: r.warm[i].toFixed(2), isTrue: i === img.label })), 'warm', 'the multi-warm label'),
  );
  const method = (m) => (m.method === 'cam' ? 'CAM' : 'Grad-CAM');
  const grid = $('cams');
  const head = (text, cls = '') => el('div', { class: `col-head ${cls}`, text });
  const cells = [el('div', {}), head('image'), head(`baseline (${method(r.baseline)})`, 'baseline'), head(`FocusNet (${method(r.focusnet)})`, 'focusnet')];
  for (let row = 0; row < r.classes.length; row++) {
    const k2 = r.classes[row];
    const isTrue = k2 === img.label;
    cells.push(el('div', { class: `row-head${isTrue ? ' is-true' : ''}` }, isTrue ? `${name(k2)} (true)` : name(k2), el('small', { text: `p ${r.baseline.probs[k2].toFixed(2)} · ${r.focusnet.probs[k2].toFixed(2)}` })));
    const plain = el('canvas', { 'aria-hidden': 'true' });
    paint(fn, plain, img, scale);
    cells.push(el('div', { class: 'tile' }, plain));
    for (const who of ['baseline', 'focusnet']) {
      const cv = el('canvas', { class: 'cam', 'data-who': who, 'data-class': k2, role: 'img', 'aria-label': `${method(r[who])} of ${name(k2)} for the ${who === 'baseline' ? 'baseline' : 'FocusNet'} (probability ${r[who].probs[k2].toFixed(2)})` });
      const map = r[who].maps[row];
      paint(fn, cv, img, scale, map);
      // a map that is zero everywhere: the model finds no evidence for the class anywhere
      const flat = !map.some((v) => v > 0);
      if (flat) cv.setAttribute('aria-label', `${cv.getAttribute('aria-label')}: zero everywhere`);
      cells.push(el('div', { class: `tile${isTrue ? ' is-true' : ''}` }, cv, el('span', { class: 'p', 'aria-hidden': 'true', text: r[who].probs[k2].toFixed(2) }), flat ? el('span', { class: 'flat', 'aria-hidden': 'true', text: 'zero map' }) : null));
    }
  }
  grid.replaceChildren(...cells);
  const notes = [r.baseline.note, r.focusnet.note].filter(Boolean);
  const [fh, fw] = r.baseline.featureSize;
  $('cams-note').textContent = `Rows: the true class, then the classes the baseline confuses it with (by its logit). Each map is scaled to its own maximum, from ${fh}×${fw} feature maps to ${img.h}×${img.w}; the number is the model’s probability of the row’s class; a “zero map” finds no evidence for the class anywhere.${notes.length ? ` ${notes.join('; ')}.` : ''}`;
  $('detail').dataset.state = 'shown';
  $('detail').dataset.index = String(r.index);
}
