#!/usr/bin/env node
// `pnpm bench [name…]`: runs every benchmark (bench/*.bench.mjs and
// packages/**/bench/*.bench.mjs) one after another, each printing its
// ratios against the limit (raw tools) and the peer (libvirt 9.0) measured
// side by side in the same run. Not part of CI.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wanted = process.argv.slice(2);

function find(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === 'dist' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) find(p, out);
    else if (e.endsWith('.bench.mjs')) out.push(p);
  }
  return out;
}

const files = [...find(join(root, 'bench')), ...find(join(root, 'packages')), ...find(join(root, 'apps'))].filter(
  (f) => !wanted.length || wanted.some((w) => basename(f).startsWith(w)),
);
let failed = 0;
for (const f of files) {
  console.log(`\n## ${relative(root, f)}`);
  const r = spawnSync(process.execPath, [f], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
