import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataDir } from '../../shared-data.js';
import type { LibvirtSchemaKind } from './schema.js';

/** Test helper: shared/conformance. */
export function conformanceRoot(): string | undefined {
  return sharedDataDir('conformance');
}

/** The conformance areas whose documents libvirt's schemas describe, and the schema of each. */
export const SCHEMA_AREAS: Readonly<Record<string, LibvirtSchemaKind>> = {
  'domain-xml': 'domain',
  'domain-qemu-xml': 'domain',
  'lxc-xml': 'domain',
  'network-xml': 'network',
  'pool-xml': 'storagepool',
  'vol-xml': 'storagevol',
};

export interface SchemaCase {
  area: string;
  kind: LibvirtSchemaKind;
  file: string;
  path: string;
}

/**
 * The input and expected files of an area's manifest that must be valid:
 * not `reject` rows, and not files named `*-invalid.xml`, which libvirt's
 * own schema test (tests/virschematest.c) expects to fail.
 */
export function validSchemaCases(root: string, area: string): SchemaCase[] {
  return schemaCases(root, area).filter((c) => !c.file.endsWith('-invalid.xml'));
}

/** The files of an area named `*-invalid.xml` (not in reject rows): libvirt's schema test expects them to fail. */
export function invalidSchemaCases(root: string, area: string): SchemaCase[] {
  return schemaCases(root, area).filter((c) => c.file.endsWith('-invalid.xml'));
}

function schemaCases(root: string, area: string): SchemaCase[] {
  const kind = SCHEMA_AREAS[area]!;
  const lines = readFileSync(join(root, area, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  const out: SchemaCase[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    if (!line.trim()) continue;
    const [, rowKind, input, expected] = line.split('\t');
    if (rowKind === 'reject') continue;
    for (const file of [input, expected]) {
      if (!file || seen.has(file)) continue;
      seen.add(file);
      out.push({ area, kind, file, path: join(root, area, file) });
    }
  }
  return out;
}
