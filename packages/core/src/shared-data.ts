import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The virtkit checkout this module runs from (the folder of pnpm-workspace.yaml), if it runs from one. */
export function repositoryRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * The project's shared data (libvirt's conformance data, RelaxNG schemas and
 * test-driver fixtures), or the folder `sub` in it: `$VIRTKIT_SHARED`, else
 * `../shared` beside the repository root. Undefined when it is not there
 * (an installed package outside a checkout).
 */
export function sharedDataDir(sub = ''): string | undefined {
  const root = repositoryRoot();
  for (const base of [process.env.VIRTKIT_SHARED, root && resolve(root, '..', 'shared')]) {
    if (base && existsSync(join(base, sub))) return join(base, sub);
  }
  return undefined;
}
