import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Passes passphrases to qemu-img the way libvirt does: in files readable
 * only by their owner (`--object secret,file=…`), never on the command
 * line, and removed as soon as the work is done.
 */
export async function withSecretFiles<T>(
  secrets: ReadonlyArray<string | Uint8Array | undefined>,
  fn: (paths: Array<string | undefined>) => Promise<T>,
  dir: string = tmpdir(),
): Promise<T> {
  if (secrets.every((s) => s === undefined)) return fn(secrets.map(() => undefined));
  const folder = await mkdtemp(join(dir, 'virtkit-secret-'));
  try {
    const paths: Array<string | undefined> = [];
    for (let i = 0; i < secrets.length; i++) {
      const s = secrets[i];
      if (s === undefined) {
        paths.push(undefined);
        continue;
      }
      const p = join(folder, `secret${i}`);
      await writeFile(p, s, { mode: 0o600 });
      paths.push(p);
    }
    return await fn(paths);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
