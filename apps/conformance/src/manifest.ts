import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One row of an area's MANIFEST.tsv (see shared/conformance/README.md). */
export interface ManifestRow {
  case: string;
  kind: string;
  input: string;
  expected: string;
  /** The row's `key=value` settings, in order. */
  args: Record<string, string>;
}

export function readManifest(dir: string): ManifestRow[] {
  const text = readFileSync(join(dir, 'MANIFEST.tsv'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift()?.split('\t') ?? [];
  const col = (name: string) => header.indexOf(name);
  const [ci, ki, ii, ei, ai] = ['case', 'kind', 'input', 'expected', 'args'].map(col);
  if (ci! < 0 || ki! < 0) throw new Error(`${dir}/MANIFEST.tsv has no case/kind header`);
  return lines.map((line) => {
    const f = line.split('\t');
    const args: Record<string, string> = {};
    for (const kv of (f[ai!] ?? '').split(' ')) {
      if (!kv) continue;
      const eq = kv.indexOf('=');
      if (eq < 0) args[kv] = '';
      else args[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    return { case: f[ci!] ?? '', kind: f[ki!] ?? '', input: f[ii!] ?? '', expected: f[ei!] ?? '', args };
  });
}
