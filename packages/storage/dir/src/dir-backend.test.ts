import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStorageBackendTestkit, skipReason } from '@virtkit/storage-testkit';

// The plugin folder: this package and its siblings (@virtkit/driver-storage).
const pluginPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

runStorageBackendTestkit({
  name: 'dir',
  poolType: 'dir',
  pluginPath,
  skip: () => skipReason({ tools: ['qemu-img'] }),
  async setup({ prefix, workDir }) {
    const dir = join(workDir, `${prefix}-images`);
    return {
      poolXml: (name) => `<pool type='dir'><name>${name}</name><target><path>${name === `${prefix}-pool` || name.includes('/') || name === '..' ? dir : `${dir}-${name}`}</path></target></pool>`,
      conflictingPoolXml: (name) => `<pool type='dir'><name>${name}</name><target><path>${dir}</path></target></pool>`,
      build: true,
      deletePool: true,
      formats: ['raw', 'qcow2', 'vmdk'],
      resize: true,
      shrink: true,
      upload: true,
      download: true,
      wipe: ['zero', 'dod', 'random', 'trim'],
      clone: true,
      openFileCheck: true,
      async addExternalVolume(name) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, name), Buffer.alloc(1 << 20, 1));
      },
      qemu: skipReason({ tools: ['qemu-system-x86_64'] }) ?? true,
    };
  },
});
