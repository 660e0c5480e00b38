// Worker thread of test/checkpoint-fuzz.test.mjs: seeded mutations of a training checkpoint
// and a model file of a small run (bytes: truncation, the header length, flipped bytes; the
// JSON header: dtypes, shapes, data offsets, entries, __metadata__; each metadata field: removed,
// junk, or one value inside its JSON changed; half of each family of a file without its checksum,
// as an older focusnet wrote them, so that the reader's own checks are what finds them), each written into its own copy of the run folder
// and read the way the trainer reads it (readCheckpointInfo, then readCheckpoint: every field,
// the tensors against the metadata). It posts 'start' before a case and 'case' after it, so the
// main thread can bound each case's time and kill a hang; the cases that read cleanly are
// loaded on the GPU by the main thread (resumed, or built into a model).
// Outcome: 'loaded', 'InputError' (whose message names the mutated file), or 'bad' (anything
// else: another exception type, an InputError not naming the file).
import { parentPort, workerData } from 'node:worker_threads';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mulberry32 } from './mulberry.mjs';

const { dist, seed, counts, runDir, modelFile, root } = workerData;
const lib = await import(pathToFileURL(join(dist, 'index.js')).href);
const T = lib.train;

// mulberry32, seeded: every mutation is a function of (seed, case index)
const rng = mulberry32;

/** A safetensors file as header length, header object and data bytes. */
function split(buf) {
  const n = Number(buf.readBigUInt64LE(0));
  return { n, header: JSON.parse(buf.subarray(8, 8 + n).toString('utf8')), data: buf.subarray(8 + n) };
}
function join3(header, data) {
  let json = Buffer.from(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

const GENERIC = ['', 'abc', '-1', '1.5', '0', '1', '2', '3', 'NaN', 'null', '{', '[]', '{}', '"x"', 'true', '1e309', '9'.repeat(30), ' 1', '0x1'];
const COUNTS = ['0', '1', '2', '3', '6', '9', '-1', '1.5', '1e3', '00001', '9007199254740993', '4294967296', 'abc', ' 1', ''];
const WORDS = ['focusnet-model', 'focusnet-checkpoint', 'pt', '', 'baseline', 'focusnet', 'ce', 'ls', 'kd', 'lenet5', 'resnet18', 'MLP', 'mlp ', 'x'];
const JUNK = [null, -1, 0, 1, 2, 1.5, 1e308, -1e308, 'x', '', [], {}, true, 2 ** 53, [1], { a: 1 }];
const META = {
  checkpoint: { words: ['format', 'stage', 'arch', 'checksum'], counts: ['epoch', 'optim_step'], json: ['rng', 'random_state', 'config', 'history', 'norm', 'data'] },
  model: { words: ['format', 'stage', 'arch', 'checksum'], counts: ['num_classes', 'in_channels', 'image_size'], json: ['norm'] },
};

/** Change one value somewhere inside a parsed JSON value (descending at random). */
function editJson(r, v) {
  if (v === null || typeof v !== 'object') return { value: r.pick(JUNK), what: `${JSON.stringify(v)} → junk` };
  const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  const op = r.int(keys.length ? 6 : 1);
  if (op === 0 || !keys.length) {
    if (Array.isArray(v)) {
      const c = [...v];
      if (c.length && r.int(2)) c.pop();
      else c.push(c.length ? c[r.int(c.length)] : r.pick(JUNK));
      return { value: c, what: `list of ${v.length} → ${c.length}` };
    }
    return { value: { ...v, [r.pick(['extra', 'zz'])]: r.pick(JUNK) }, what: 'extra key' };
  }
  const k = r.pick(keys);
  const c = Array.isArray(v) ? [...v] : { ...v };
  if (op === 1 && !Array.isArray(v)) {
    delete c[k];
    return { value: c, what: `"${k}" removed` };
  }
  if (op <= 3) {
    c[k] = r.pick(JUNK);
    return { value: c, what: `[${k}] → ${JSON.stringify(c[k])}` };
  }
  const inner = editJson(r, v[k]);
  c[k] = inner.value;
  return { value: c, what: `[${k}]${inner.what.startsWith('[') ? '' : ': '}${inner.what}` };
}

function mutateBytes(r, buf) {
  const b = Buffer.from(buf);
  const { n } = split(buf);
  switch (r.int(6)) {
    case 0: {
      const len = r.int(b.length);
      return { bytes: b.subarray(0, len), what: `truncated to ${len} of ${b.length} bytes` };
    }
    case 1: {
      const v = r.pick([0n, 1n, 2n, 7n, BigInt(n - 1), BigInt(n + 1), BigInt(n + 8), BigInt(b.length - 8), BigInt(b.length), 2n ** 32n, 2n ** 53n, 2n ** 64n - 1n]);
      b.writeBigUInt64LE(v, 0);
      return { bytes: b, what: `header length ${n} → ${v}` };
    }
    case 2: {
      const k = 1 + r.int(4);
      for (let i = 0; i < k; i++) b[8 + r.int(n)] = r.int(256);
      return { bytes: b, what: `${k} header bytes changed` };
    }
    case 3: {
      const k = 1 + r.int(8);
      for (let i = 0; i < k; i++) b[8 + n + r.int(b.length - 8 - n)] = r.int(256);
      return { bytes: b, what: `${k} data bytes changed` };
    }
    case 4: {
      const k = 1 + r.int(16);
      return { bytes: Buffer.concat([b, Buffer.from(Array.from({ length: k }, () => r.int(256)))]), what: `${k} bytes appended` };
    }
    default: {
      const at = r.int(b.length);
      const len = 1 + r.int(64);
      b.fill(0, at, at + len);
      return { bytes: b, what: `${len} bytes zeroed at ${at}` };
    }
  }
}

function mutateHeader(r, buf) {
  const { header, data } = split(buf);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const t = r.pick(names);
  const e = header[t];
  let what;
  switch (r.int(8)) {
    case 0:
      e.dtype = r.pick(['F32', 'I32', 'I64', 'F16', 'BF16', 'F64', 'U8', 'I8', 'BOOL', 'U32', 'U64', 'F8_E4M3', 'f32', '', 'XYZ', 7, null]);
      what = `${t} dtype → ${JSON.stringify(e.dtype)}`;
      break;
    case 1: {
      const s = e.shape;
      e.shape = r.pick([[...s].reverse(), [...s, 1], [2, ...s], s.slice(0, -1), [], [-1], [1.5], ['8'], [2 ** 53], null, 'x', [s.reduce((a, x) => a * x, 1)]]);
      what = `${t} shape ${JSON.stringify(s)} → ${JSON.stringify(e.shape)}`;
      break;
    }
    case 2: {
      const [b0, e0] = e.data_offsets;
      const other = header[r.pick(names)].data_offsets;
      e.data_offsets = r.pick([[b0 + 4, e0 + 4], [b0 - 4, e0 - 4], [b0, e0 + 4], [b0, e0 - 4], [...other], [0, 0], [e0, b0], [-4, e0], [b0, 1e12], null, [b0]]);
      what = `${t} data_offsets [${b0}, ${e0}] → ${JSON.stringify(e.data_offsets)}`;
      break;
    }
    case 3:
      delete header[t];
      what = `entry ${t} removed`;
      break;
    case 4:
      header[r.pick([`${t}.x`, 'model.extra', 'optim.momentum.7', 'zz'])] = e;
      delete header[t];
      what = `entry ${t} renamed`;
      break;
    case 5:
      header[`${t}.copy`] = { ...e };
      what = `entry ${t} duplicated (overlapping data)`;
      break;
    case 6: {
      header.__metadata__ = r.pick([null, [], 'x', { format: 7 }, { ...header.__metadata__, norm: 5 }, {}]);
      what = `__metadata__ → ${JSON.stringify(header.__metadata__).slice(0, 40)}`;
      break;
    }
    default:
      header[r.pick(['zzz', '', 'model.'])] = r.pick([5, 'x', null, { dtype: 'F32' }]);
      what = 'a junk entry added';
  }
  return { bytes: join3(header, data), what };
}

function mutateMeta(r, buf, kind) {
  const { header, data } = split(buf);
  const meta = header.__metadata__;
  const f = META[kind];
  // half of them as a file without a checksum (an older focusnet's), so each field's own check is reached
  const unsealed = r.int(2) === 1;
  if (unsealed) delete meta.checksum;
  const field = r.pick([...f.words, ...f.counts, ...f.json, ...f.json]);
  let what;
  const op = r.int(10);
  if (op === 0) {
    delete meta[field];
    what = `${field} removed`;
  } else if (op <= 2) {
    meta[field] = r.pick(GENERIC);
    what = `${field} → ${JSON.stringify(meta[field])}`;
  } else if (f.words.includes(field)) {
    meta[field] = r.pick(WORDS);
    what = `${field} → ${JSON.stringify(meta[field])}`;
  } else if (f.counts.includes(field)) {
    meta[field] = r.pick(COUNTS);
    what = `${field} → ${JSON.stringify(meta[field])}`;
  } else if (meta[field] === undefined) {
    meta[field] = JSON.stringify(r.pick(JUNK));
    what = `${field} (absent) → ${meta[field]}`;
  } else {
    const e = editJson(r, JSON.parse(meta[field]));
    meta[field] = JSON.stringify(e.value) ?? 'null';
    what = `${field}${e.what.startsWith('[') ? '' : ': '}${e.what}`;
  }
  return { bytes: join3(header, data), what: unsealed ? `${what} (no checksum)` : what };
}

/** The file as one without a checksum (an older focusnet's). */
function unseal(buf) {
  const { header, data } = split(buf);
  delete header.__metadata__.checksum;
  return join3(header, data);
}
const checkpointBytes = readFileSync(join(runDir, 'checkpoint-ce.safetensors'));
const modelBytes = readFileSync(modelFile);
const unsealed = { checkpoint: unseal(checkpointBytes), model: unseal(modelBytes) };
const plan = [
  ...Array.from({ length: counts.bytes }, (_, i) => ['bytes', i % 2 ? 'model' : 'checkpoint']),
  ...Array.from({ length: counts.header }, (_, i) => ['header', i % 2 ? 'model' : 'checkpoint']),
  ...Array.from({ length: counts.checkpointMeta }, () => ['metadata', 'checkpoint']),
  ...Array.from({ length: counts.modelMeta }, () => ['metadata', 'model']),
];
const tally = {};
mkdirSync(root, { recursive: true });
for (let i = 0; i < plan.length; i++) {
  const [family, target] = plan[i];
  const r = rng(seed * 7919 + i);
  // bytes and header: half of them of the file without its checksum, so that the reader's own checks are what find them
  const bare = family !== 'metadata' && r.int(2) === 1;
  const src = bare ? unsealed[target] : target === 'checkpoint' ? checkpointBytes : modelBytes;
  const m = family === 'bytes' ? mutateBytes(r, src) : family === 'header' ? mutateHeader(r, src) : mutateMeta(r, src, target);
  if (bare) m.what += ' (no checksum)';
  const dir = join(root, `case-${i}`);
  if (target === 'checkpoint') cpSync(runDir, dir, { recursive: true });
  else mkdirSync(dir, { recursive: true });
  const path = join(dir, target === 'checkpoint' ? 'checkpoint-ce.safetensors' : 'ce.safetensors');
  writeFileSync(path, m.bytes);
  const desc = `#${i} ${family} ${target}: ${m.what}`;
  parentPort.postMessage({ type: 'start', desc });
  let outcome = 'loaded';
  let message = '';
  try {
    T.readCheckpointInfo(path);
    T.readCheckpoint(path);
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
    outcome = e instanceof lib.InputError && message.includes(path) ? 'InputError' : 'bad';
    if (outcome === 'bad') message = e instanceof Error ? e.stack : message;
  }
  const key = `${family} ${target}`;
  tally[key] ??= { loaded: 0, InputError: 0, bad: 0 };
  tally[key][outcome]++;
  parentPort.postMessage({ type: 'case', i, family, target, desc, outcome, message, path, dir });
}
parentPort.postMessage({ type: 'done', tally });
