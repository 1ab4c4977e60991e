// Bundles src/ into assets/dashboard.js and assets/dashboard.css (minified, deterministic).
// `node build.mjs [outdir]`: the test suite builds into a temporary directory and compares, so
// checked-in assets that are older than their sources fail a test.
// Every file in src/views/ is a view (a tab); `import VIEWS from 'pulse:views'` is the list of them,
// so a module adds its tab by writing views/<name>.js and nothing else.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const outdir = resolve(process.argv[2] || resolve(here, 'assets'));
const common = { bundle: true, minify: true, legalComments: 'none', logLevel: 'warning', absWorkingDir: here };

const viewsDir = resolve(here, 'src/views');
const views = {
  name: 'views',
  setup(b) {
    b.onResolve({ filter: /^pulse:views$/ }, () => ({ path: 'views', namespace: 'views' }));
    b.onLoad({ filter: /.*/, namespace: 'views' }, () => {
      const files = readdirSync(viewsDir).filter((f) => f.endsWith('.js')).sort();
      const imports = files.map((f, i) => `import v${i} from './${f}';`).join('\n');
      return { contents: `${imports}\nexport default [${files.map((_, i) => `v${i}`).join(', ')}];`,
        resolveDir: viewsDir, watchFiles: files.map((f) => resolve(viewsDir, f)) };
    });
  },
};

await build({ ...common, entryPoints: ['src/main.js'], outfile: resolve(outdir, 'dashboard.js'), format: 'esm',
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'], plugins: [views] });
await build({ ...common, entryPoints: ['src/dashboard.css'], outfile: resolve(outdir, 'dashboard.css'),
  target: ['chrome90', 'firefox90', 'safari15'] });
