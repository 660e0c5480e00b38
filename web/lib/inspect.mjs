// One test image under both models, computed on the GPU: logits and probabilities, the
// baseline's multi-warm label (losses.multiWarmLabel: the classes it finds plausible, the
// paper's Eq. 4-6) and the class activation maps (viz.classActivationMaps: Grad-CAM, or CAM
// for networks ending in global average pooling + linear) of the true class and the confusing
// ones, for both models: the data behind the paper's Figures 1 and 2.

/** The image's pixels as planes [C, H, W] in [0, 1], and its label. */
export function imageOf(split, index) {
  const { c, h, w } = split;
  const px = new Uint8Array(c * h * w);
  split.readImage(index, px, 0);
  return { planes: Float32Array.from(px, (v) => v / 255), label: split.labels[index], c, h, w };
}

/** The network input [1, C, H, W] for planes in [0, 1] under a normalisation ({ mean, std } per channel). */
function input(fn, img, norm) {
  const { c, h, w, planes } = img;
  const x = new Float32Array(planes.length);
  for (let ch = 0; ch < c; ch++) {
    const mean = norm?.mean[ch] ?? 0;
    const std = norm?.std[ch] ?? 1;
    for (let i = ch * h * w, e = i + h * w; i < e; i++) x[i] = (planes[i] - mean) / std;
  }
  return fn.tensor(x, [1, c, h, w]);
}

const argmax = (v) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

/**
 * Everything the detail view shows for image `index`: { index, image, classes (the rows of the
 * maps: the true class, then by the baseline's logit), warm (the multi-warm label), baseline,
 * focusnet ({ logits, probs, maps, method, note }) }. `maxMaps` rows; `method` 'gradcam' or 'cam'.
 */
export async function inspect(fn, pair, split, norms, index, { maxMaps = 4, method = 'gradcam', size } = {}) {
  const img = imageOf(split, index);
  const xs = { baseline: input(fn, img, norms.baseline), focusnet: input(fn, img, norms.focusnet) };
  try {
    const logitsOf = async (m, x) => {
      const z = fn.noGrad(() => m.model.forward(x));
      try {
        return await z.read();
      } finally {
        z.dispose();
      }
    };
    const zb = await logitsOf(pair.baseline, xs.baseline);
    const zf = await logitsOf(pair.focusnet, xs.focusnet);
    const N = zb.length;
    if (!(img.label >= 0 && img.label < N)) throw new fn.DataError('test labels', `label ${img.label} of test image ${index} is beyond the models' ${N} classes`);
    const warm = await warmLabel(fn, zb, img.label);
    // rows: the true class, both predictions, then the other warm classes, the most confusing first
    const confusing = [...warm.keys()].filter((k) => warm[k] > 0 && k !== img.label).sort((a, b) => zb[b] - zb[a]);
    const picked = [...new Set([img.label, argmax(zb), argmax(zf), ...confusing])].slice(0, maxMaps);
    const classes = [img.label, ...picked.slice(1).sort((a, b) => zb[b] - zb[a])];
    const maps = async (m, x, z) => {
      let use = method;
      let note = null;
      if (use === 'cam' && !m.split.fcWeight) {
        use = 'gradcam';
        note = `${m.arch} does not end in global average pooling + linear, so it has no CAM: Grad-CAM instead`;
      }
      const r = await fn.viz.classActivationMaps(m.split, x, classes, { method: use, size });
      return { logits: z, probs: fn.viz.softmaxCpu(z), maps: r.maps, method: r.method, note, featureSize: r.featureSize };
    };
    return {
      index, image: img, classes, warm,
      baseline: await maps(pair.baseline, xs.baseline, zb),
      focusnet: await maps(pair.focusnet, xs.focusnet, zf),
    };
  } finally {
    xs.baseline.dispose();
    xs.focusnet.dispose();
  }
}

/** The multi-warm label of one row of baseline logits (positive-logit rule, the paper's). */
async function warmLabel(fn, zb, label) {
  const z = fn.tensor(zb, [1, zb.length]);
  const y = fn.tensor(Int32Array.of(label), [1], { dtype: 'i32' });
  const l = fn.losses.multiWarmLabel(z, y);
  try {
    return await l.read();
  } finally {
    for (const t of [z, y, l]) t.dispose();
  }
}

/** The k most probable classes, most probable first: [{ k, p }]. */
export function topK(probs, k) {
  return [...probs.keys()].sort((a, b) => probs[b] - probs[a]).slice(0, k).map((i) => ({ k: i, p: probs[i] }));
}
