import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataDir } from '../../shared-data.js';

/** Where libvirt's packages install the schemas (Debian's libvirt0). */
export const SYSTEM_LIBVIRT_SCHEMA_DIR = '/usr/share/libvirt/schemas';

function hasSchemas(dir: string | undefined): dir is string {
  return !!dir && existsSync(join(dir, 'domain.rng'));
}

/**
 * The folder holding libvirt's RelaxNG schemas (domain.rng, network.rng, …),
 * first found of: $VIRTKIT_SCHEMA_DIR, /usr/share/libvirt/schemas,
 * $VIRTKIT_SHARED/libvirt-schemas, ../shared/libvirt-schemas next to the
 * repository. Undefined when there is none: virtkit does not ship them.
 */
export function findLibvirtSchemaDir(): string | undefined {
  const candidates = [process.env.VIRTKIT_SCHEMA_DIR, SYSTEM_LIBVIRT_SCHEMA_DIR, sharedDataDir('libvirt-schemas')];
  return candidates.find(hasSchemas);
}
