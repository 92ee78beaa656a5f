import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where libvirt's packages install the schemas (Debian's libvirt0). */
export const SYSTEM_LIBVIRT_SCHEMA_DIR = '/usr/share/libvirt/schemas';

function hasSchemas(dir: string | undefined): dir is string {
  return !!dir && existsSync(join(dir, 'domain.rng'));
}

/** The repository's ../shared/libvirt-schemas: walks up from this module to pnpm-workspace.yaml. */
function repositorySchemaDir(): string | undefined {
  let dir: string;
  try {
    dir = dirname(fileURLToPath(import.meta.url));
  } catch {
    return undefined;
  }
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return resolve(dir, '..', 'shared', 'libvirt-schemas');
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * The folder holding libvirt's RelaxNG schemas (domain.rng, network.rng, …),
 * first found of: $VIRTKIT_SCHEMA_DIR, /usr/share/libvirt/schemas,
 * $VIRTKIT_SHARED/libvirt-schemas, ../shared/libvirt-schemas next to the
 * repository. Undefined when there is none: virtkit does not ship them.
 */
export function findLibvirtSchemaDir(): string | undefined {
  const candidates = [
    process.env.VIRTKIT_SCHEMA_DIR,
    SYSTEM_LIBVIRT_SCHEMA_DIR,
    process.env.VIRTKIT_SHARED ? join(process.env.VIRTKIT_SHARED, 'libvirt-schemas') : undefined,
    repositorySchemaDir(),
  ];
  return candidates.find(hasSchemas);
}
