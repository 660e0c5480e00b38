// Where the page's files come from: what the demo server serves (/served.json says what the run
// and data folders hold; scripts/demo.mjs) or files the visitor chooses. Every file arrives as
// { name, bytes }, the form the library's byte functions take, and every failure is a DataError
// naming the file. Fetched files are kept, so the explorer and the trainer share one download.

/** The demo server's description of its run and data folders, or null (a page served without it). */
export async function fetchServed() {
  try {
    const r = await fetch('/served.json', { cache: 'no-store' });
    if (!r.ok) return null;
    return await r.json();
  } catch {
    return null;
  }
}

const cache = new Map();

/** GET `url` as { name, bytes }; `name` is what errors call the file. */
export function fetchBytes(fn, url, name) {
  if (!cache.has(url)) {
    const p = (async () => {
      let r;
      try {
        r = await fetch(url);
      } catch (e) {
        throw new fn.DataError(name, `could not be fetched from ${url} (${e instanceof Error ? e.message : e})`);
      }
      if (!r.ok) throw new fn.DataError(name, `the server answered ${r.status} ${r.statusText} for ${url}`);
      return { name, bytes: new Uint8Array(await r.arrayBuffer()) };
    })();
    p.catch(() => cache.delete(url)); // a failed fetch is tried again next time
    cache.set(url, p);
  }
  return cache.get(url);
}

/** A chosen File as { name, bytes }. */
export async function fileBytes(fn, file) {
  try {
    return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
  } catch (e) {
    throw new fn.DataError(file.name, `could not be read (${e instanceof Error ? e.message : e})`);
  }
}

/** The served run folder's two checkpoints as { baseline, focusnet } of { url, name }, or null. */
export function servedCheckpoints(served) {
  const f = served?.run?.files;
  if (!f?.baseline || !f?.focusnet) return null;
  return { baseline: { url: `/run/${f.baseline}`, name: f.baseline }, focusnet: { url: `/run/${f.focusnet}`, name: f.focusnet } };
}

/** The served data folder's IDX files for `roles` (e.g. ['testImages', 'testLabels']) as { role: { url, name } }, or null. */
export function servedIdx(served, roles) {
  const f = served?.data?.files;
  if (!f || roles.some((r) => !f[r])) return null;
  return Object.fromEntries(roles.map((r) => [r, { url: `/data/${f[r]}`, name: f[r] }]));
}

/**
 * Chosen IDX files sorted into their roles by what they hold (an IDX file's rank: 3 for images,
 * 1 for labels) and, between the training and test split, by name (t10k / test against train);
 * with one pair only, it is the test pair. A DataError names a file that is no IDX file, and says
 * which files are missing.
 */
export function idxRoles(fn, files, roles) {
  const images = [];
  const labels = [];
  for (const f of files) {
    const a = fn.data.decodeIdx(f); // DataError naming the file when it is no IDX file
    if (a.dims.length === 3) images.push(f);
    else if (a.dims.length === 1) labels.push(f);
    else throw new fn.DataError(f.name, `an IDX file of dimensions [${a.dims.join(', ')}]: neither images [N, H, W] nor labels [N]`);
  }
  const isTest = (f) => /t10k|test/i.test(f.name);
  const pick = (list, test, what) => {
    const found = list.length === 1 && roles.length === 2 ? list[0] : list.find((f) => isTest(f) === test);
    if (!found) throw new fn.DataError(files.map((f) => f.name).join(', ') || 'no files', `no ${test ? 'test' : 'training'} ${what} among the chosen IDX files (name them t10k-… / train-… as the data set does)`);
    return found;
  };
  const out = {};
  for (const r of roles) {
    const test = r.startsWith('test');
    out[r] = r.endsWith('Images') ? pick(images, test, 'images') : pick(labels, test, 'labels');
  }
  return out;
}

/** Class names for a data set: the chosen set, or (auto) from the served folder's name as the CLI does. */
export function classNames(fn, choice, folderName, numClasses) {
  if (choice === 'fashion' && numClasses === 10) return fn.data.FASHION_MNIST_CLASSES.slice();
  if (choice === 'numbers') return Array.from({ length: numClasses }, (_, i) => String(i));
  return fn.data.classNamesFrom('idx', folderName ?? '', numClasses, null);
}
