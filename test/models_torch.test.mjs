// Full torchvision models against torch, when Debian's torch is installed
// (/usr/bin/python3 with torch and torchvision; otherwise each case is registered with
// test.skip and reported as skipped, not passed; CI need not have torch):
// test/fixtures/gen_torchvision.py writes resnet18 and mobilenet_v2 (small-input
// variants, 10 classes) with torch's eval output; they must load strictly into our
// models and give the same output. Our saved files must load strictly in torch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lib, { scope, noGrad } from './helpers/lib.mjs';
import { assertClose } from './helpers/ref.mjs';

const { models, io } = lib;
const FIX = new URL('./fixtures/', import.meta.url).pathname;
const PY = '/usr/bin/python3';
const hasTorch = existsSync(PY) && spawnSync(PY, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'focusnet-tv-'));

function py(args) {
  const r = spawnSync(PY, args, { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`python ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

const cases = [
  ['resnet18_small', 'resnet18', () => models.resnet18({ numClasses: 10, smallInput: true })],
  ['mobilenet_v2_small', 'mobilenet_v2', () => models.mobilenetV2({ numClasses: 10, widthMult: 0.5, smallInput: true })],
];
if (hasTorch) py([FIX + 'gen_torchvision.py', dir]);
else console.log('models_torch: /usr/bin/python3 has no torch/torchvision; the torchvision comparisons are skipped');
const torchTest = hasTorch ? test : test.skip;
for (const [file, kind, make] of cases) {
  torchTest(`torchvision ${file}: strict load, same eval output, our file loads in torch`, async () => {
    const m = make().eval();
    const sd = io.loadSafetensors(join(dir, file + '.safetensors'));
    const xio = io.loadSafetensors(join(dir, file + '_io.safetensors'));
    m.loadStateDict(sd);
    const y = noGrad(() => scope(() => m.forward(xio.input)));
    const want = await xio.output.read();
    assert.equal(y.shape, [2, 10]);
    const scale = Math.max(...want.map(Math.abs));
    assertClose(await y.read(), want, { rtol: 1e-4, atol: 1e-4 * Math.max(1, scale), what: `${file} output` });
    const ours = join(dir, file + '_ours.safetensors');
    await io.saveSafetensors(ours, m.stateDict(), { format: 'pt' });
    const res = JSON.parse(py([FIX + 'check_ours.py', kind, ours]).trim().split('\n').pop());
    assert.ok(res.ok);
    assert.is(res.keys, Object.keys(m.stateDict()).length);
    assert.is(res.params, m.numParameters());
    y.dispose();
    for (const t of [...Object.values(sd), ...Object.values(xio)]) t.dispose();
    m.dispose();
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
