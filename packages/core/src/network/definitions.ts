/**
 * Persistent network definitions: `<config>/network/NAME.xml` (the
 * inactive XML, as libvirt's virNetworkSaveConfig writes it) and the
 * autostart links `<config>/network/autostart/NAME.xml` → the definition.
 */
import { lstat, mkdir, readdir, readFile, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtError } from '../errors.js';
import { writeFileAtomic } from '../files.js';

const SUFFIX = '.xml';

export class NetworkDefinitionStore {
  readonly dir: string;
  readonly autostartDir: string;

  constructor(configDir: string) {
    this.dir = join(configDir, 'network');
    this.autostartDir = join(this.dir, 'autostart');
  }

  path(name: string): string {
    return join(this.dir, `${name}${SUFFIX}`);
  }

  async names(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch {
      return [];
    }
    return entries.filter((e) => e.endsWith(SUFFIX) && !e.startsWith('.')).map((e) => e.slice(0, -SUFFIX.length));
  }

  /** The stored XML, or undefined when the network has no definition. */
  async read(name: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new VirtError('SYSTEM_ERROR', `cannot read network definition ${this.path(name)}: ${(err as Error).message}`, { origin: 'network', cause: err });
    }
  }

  async write(name: string, xml: string): Promise<void> {
    const header =
      '<!--\n' +
      'WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n' +
      'OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n' +
      `  virtkit net-edit ${name}\n` +
      'or other application using the virtkit API.\n' +
      '-->\n\n';
    await writeFileAtomic(this.path(name), header + xml, 0o600);
  }

  async remove(name: string): Promise<void> {
    await this.setAutostart(name, false);
    await unlink(this.path(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async isAutostart(name: string): Promise<boolean> {
    try {
      await lstat(join(this.autostartDir, `${name}${SUFFIX}`));
      return true;
    } catch {
      return false;
    }
  }

  async setAutostart(name: string, on: boolean): Promise<void> {
    const link = join(this.autostartDir, `${name}${SUFFIX}`);
    if (on) {
      if (await this.isAutostart(name)) return;
      await mkdir(this.autostartDir, { recursive: true });
      try {
        await symlink(this.path(name), link);
      } catch (err) {
        throw new VirtError('SYSTEM_ERROR', `Failed to create symlink '${link}' to '${this.path(name)}': ${(err as Error).message}`, { origin: 'network', cause: err });
      }
    } else {
      await unlink(link).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') {
          throw new VirtError('SYSTEM_ERROR', `Failed to delete symlink '${link}': ${err.message}`, { origin: 'network', cause: err });
        }
      });
    }
  }
}
