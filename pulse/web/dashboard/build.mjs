// Bundles src/ into assets/dashboard.js and assets/dashboard.css (minified, deterministic).
// `node build.mjs [outdir]`: the test suite builds into a temporary directory and compares, so
// checked-in assets that are older than their sources fail a test.
import { build } from 'esbuild';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const outdir = resolve(process.argv[2] || resolve(here, 'assets'));
const common = { bundle: true, minify: true, legalComments: 'none', logLevel: 'warning', absWorkingDir: here };

await build({ ...common, entryPoints: ['src/main.js'], outfile: resolve(outdir, 'dashboard.js'), format: 'esm',
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'] });
await build({ ...common, entryPoints: ['src/dashboard.css'], outfile: resolve(outdir, 'dashboard.css'),
  target: ['chrome90', 'firefox90', 'safari15'] });
