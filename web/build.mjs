// Bundles the dashboard into dist/: app.js (with hls.js and dash.js),
// app.css and index.html. Run by `make web` after `npm ci`.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

// Empty dist but keep the committed placeholder the Go embed needs.
mkdirSync(dist, { recursive: true });
for (const f of readdirSync(dist)) {
  if (f !== '.placeholder') rmSync(join(dist, f), { recursive: true, force: true });
}

await esbuild.build({
  entryPoints: [join(here, 'src', 'app.js')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync(join(here, 'src', 'index.html'), join(dist, 'index.html'));
copyFileSync(join(here, 'src', 'app.css'), join(dist, 'app.css'));
console.log('web: bundle written to', dist);
