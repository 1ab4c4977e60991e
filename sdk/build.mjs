// Builds the npm package (dist/: ESM, CommonJS, .d.ts) and the tracking script the Python
// server serves (../pulse/web/static/: script.js and script/<feature>.js), all from src/.
//   node build.mjs                          everything
//   node build.mjs --script-only [--out D]  only the script files, into D (the staleness test uses this)
//   node build.mjs --sdk-only               only dist/ (`npm test`: so tests never rewrite the checked-in
//                                           script, which would hide that it is stale)
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const scriptOnly = args.includes("--script-only");
const sdkOnly = args.includes("--sdk-only");
const out = args.includes("--out") ? args[args.indexOf("--out") + 1] : join(here, "../pulse/web/static");

export const FEATURES = ["vitals", "scroll", "outlinks", "errors", "clicks", "search", "replay"];

// The script targets browsers from 2020 on: optional chaining and `??` stay as they are.
const script = { bundle: true, minify: true, format: "iife", target: "es2020", logLevel: "error" };

async function buildScript() {
  await build({ ...script, entryPoints: [join(here, "src/script/main.ts")], outfile: join(out, "script.js"),
    legalComments: "none" });
  // Each feature file runs after the core script, which hands it the tracker as `pulse.t`.
  await Promise.all(FEATURES.map((f) => build({
    ...script,
    stdin: { contents: `import { install } from "./src/features/${f}";\nconst t = window.pulse && window.pulse.t;\nt && install(t);`,
      resolveDir: here, loader: "ts", sourcefile: `${f}.ts` },
    outfile: join(out, "script", `${f}.js`),
    legalComments: "eof", // web-vitals (Apache-2.0) and rrweb (MIT) keep their notices
  })));
}

if (!sdkOnly) await buildScript();

const lazyFeatures = {
  name: "lazy-features",
  setup(b) {
    b.onResolve({ filter: /^\.\/features\// }, (a) => ({ path: a.path + ".cjs", external: true }));
  },
};

if (!scriptOnly) {
  const dist = join(here, "dist");
  rmSync(dist, { recursive: true, force: true });
  const lib = {
    entryPoints: ["index", "server", "react", "vue", "next", "react-native"].map((e) => join(here, "src", `${e}.ts`)),
    bundle: true, target: "es2020", platform: "neutral", external: ["react", "react-dom", "vue"],
    mainFields: ["module", "main"], logLevel: "error",
  };
  await Promise.all([
    // ESM splits shared code and each optional feature into chunks, so bundlers load features lazily.
    build({ ...lib, format: "esm", splitting: true, outdir: join(dist, "esm"), chunkNames: "chunks/[name]-[hash]" }),
    // CommonJS cannot split chunks: each feature becomes a file of its own that the client
    // require()s only when it is turned on, rather than rrweb riding along in every entry point.
    build({ ...lib, format: "cjs", outdir: join(dist, "cjs"), outExtension: { ".js": ".cjs" },
      plugins: [lazyFeatures], supported: { "dynamic-import": false } }), // import() becomes require()
    build({ ...lib, entryPoints: FEATURES.map((f) => join(here, "src/features", `${f}.ts`)), format: "cjs",
      outdir: join(dist, "cjs/features"), outExtension: { ".js": ".cjs" } }),
  ]);
  execFileSync(process.execPath, [join(here, "node_modules/typescript/bin/tsc"), "-p", join(here, "tsconfig.json")],
    { stdio: "inherit" });
}
