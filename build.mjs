// Builds the library for Node (dist/index.js), the CLI (dist/cli.js) and the library for a web
// page (dist/browser.js: one ES module with every package it uses, no Node module) with esbuild.
// WGSL kernels under kernels/ are embedded as text (import x from '../../kernels/x.wgsl').
// Type declarations come from tsc (dist/*.d.ts); `--no-types` skips them for quick rebuilds.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync, mkdirSync, chmodSync } from 'node:fs';

const noTypes = process.argv.includes('--no-types');
// FOCUSNET_DIST redirects the output (parallel work trees, scratch builds).
const outdir = process.env.FOCUSNET_DIST || 'dist';
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  loader: { '.wgsl': 'text' },
  // Dawn's native module and real libraries stay external: they are installed dependencies.
  packages: 'external',
  logLevel: 'warning',
};

await build({ ...common, entryPoints: { index: 'src/index.ts' }, outdir });
await build({
  ...common,
  entryPoints: { cli: 'src/cli.ts' },
  outdir,
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync(`${outdir}/cli.js`, 0o755);
// The page's build: the browser platform (src/platform/browser.ts) and everything bundled in, so
// `import ... from '/dist/browser.js'` works in a <script type="module"> without an import map.
await build({
  ...common,
  platform: 'browser',
  target: 'es2022',
  packages: undefined,
  entryPoints: { browser: 'src/index.browser.ts' },
  outdir,
});

if (!noTypes) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--outDir', outdir], { stdio: 'inherit' });
}
