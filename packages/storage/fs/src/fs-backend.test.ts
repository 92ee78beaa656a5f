import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loopsUnder, makeImage, mountsUnder, runStorageBackendTestkit, skipReason, sh } from '@virtkit/storage-testkit';

const pluginPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let work = '';

runStorageBackendTestkit({
  name: 'fs (ext4 on a loop device)',
  poolType: 'fs',
  pluginPath,
  skip: () => skipReason({ root: true, tools: ['losetup', 'mkfs.ext4', 'mount', 'umount', 'blkid', 'qemu-img'], check: () => (sh(['losetup', '--find'], { allowFailure: true }).trim() ? undefined : 'no free loop device') }),
  async setup({ prefix, workDir }) {
    work = workDir;
    const image = makeImage(workDir, `${prefix}-fs.img`, 256 << 20);
    const mnt = (name: string) => join(workDir, `mnt-${name.replace(/[/.]/g, '_')}`);
    mkdirSync(mnt('x'), { recursive: true });
    return {
      poolXml: (name) =>
        `<pool type='fs'><name>${name}</name><source><device path='${image}'/><format type='ext4'/></source><target><path>${mnt(name)}</path></target></pool>`,
      conflictingPoolXml: (name) =>
        `<pool type='fs'><name>${name}</name><source><device path='${image}'/><format type='ext4'/></source><target><path>${mnt('other')}</path></target></pool>`,
      build: true,
      buildOptions: { noOverwrite: true },
      deletePool: true,
      formats: ['raw', 'qcow2', 'vmdk'],
      resize: true,
      shrink: true,
      upload: true,
      download: true,
      wipe: ['zero', 'nnsa', 'trim'],
      clone: true,
      openFileCheck: true,
      qemu: skipReason({ tools: ['qemu-system-x86_64'] }) ?? true,
      leftovers: () => [...mountsUnder(work), ...loopsUnder(work)],
    };
  },
});
