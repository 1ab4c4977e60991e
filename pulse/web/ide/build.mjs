// Bundles src/ into assets/ (minified, deterministic): graphiql.js and graphiql.css for /graphql,
// docs.js and docs.css for /api/docs (pulse/web/ide.py serves them).
// `node build.mjs [outdir]`: the test suite builds into a temporary directory and compares, so
// checked-in assets that are older than their sources or the locked packages fail a test.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const outdir = resolve(process.argv[2] || resolve(here, 'assets'));
const common = { bundle: true, minify: true, legalComments: 'none', logLevel: 'warning', absWorkingDir: here };
const js = { ...common, format: 'iife', target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
  define: { 'process.env.NODE_ENV': '"production"' } };
const css = { ...common, target: ['chrome90', 'firefox90', 'safari15'] };

// GraphiQL's stylesheet inlines its web fonts (Roboto, Fira Code) as data: URLs, about a third of
// its size; without them the page uses the system's fonts and the CSP's font-src stays 'self'.
const noFonts = {
  name: 'no-fonts',
  setup(b) {
    b.onLoad({ filter: /graphiql[\\/]dist[\\/]style\.css$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replace(/@font-face\s*\{[^}]*\}/g, ''), loader: 'css',
    }));
  },
};

await build({ ...js, entryPoints: ['src/graphiql.js'], outfile: resolve(outdir, 'graphiql.js') });
await build({ ...css, entryPoints: ['src/graphiql.css'], outfile: resolve(outdir, 'graphiql.css'), plugins: [noFonts] });
await build({ ...js, entryPoints: ['src/docs.js'], outfile: resolve(outdir, 'docs.js') });
await build({ ...css, entryPoints: ['src/docs.css'], outfile: resolve(outdir, 'docs.css') });
