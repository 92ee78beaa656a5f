#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConformanceRoot, listAreas, runArea } from './runner.js';

// pnpm conformance [<area> [<dir>]]: prints PASS/FAIL per row and `<area>: P/N passed` last.
async function main(argv: string[]): Promise<number> {
  const [area, dirArg] = argv;
  const root = defaultConformanceRoot();
  if (!area) {
    if (!existsSync(root)) {
      console.error(`error: conformance data not found at ${root} (set VIRTKIT_SHARED)`);
      return 2;
    }
    for (const a of listAreas(root)) await runArea(a, join(root, a));
    return 0;
  }
  const dir = dirArg ?? join(root, area);
  if (!existsSync(join(dir, 'MANIFEST.tsv'))) {
    console.error(`error: no MANIFEST.tsv in ${dir}`);
    return 2;
  }
  await runArea(area, dir);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
