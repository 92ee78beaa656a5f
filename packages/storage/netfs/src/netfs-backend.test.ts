import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPoolOptionsXml } from '@virtkit/core';
import { kernelHasFilesystem, runStorageBackendTestkit, skipReason, startGanesha } from '@virtkit/storage-testkit';
import { kernelCanMountNfs } from './nfs-client-mode.js';

const pluginPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// What runs here: without a kernel NFS client the pool's `auto` client is user space.
const mode = kernelCanMountNfs() ? 'kernel' : 'userspace';

runStorageBackendTestkit({
  name: `netfs (nfs-ganesha + rpcbind, ${mode} NFS client)`,
  poolType: 'netfs',
  pluginPath,
  skip: () => skipReason({ root: true, tools: ['ganesha.nfsd', 'rpcbind', 'rpcinfo', 'qemu-img', 'qemu-nbd', 'showmount'] }),
  async setup({ prefix, workDir, cleanup }) {
    const nfs = await startGanesha({ dir: workDir, prefix, cleanup });
    const mnt = (name: string) => join(workDir, `mnt-${name.replace(/[/.]/g, '_')}`);
    const options = formatPoolOptionsXml({ client: 'auto' });
    const pool = (name: string) =>
      `<pool type='netfs'><name>${name}</name><source><host name='${nfs.host}'/><dir path='${nfs.path}'/><format type='nfs'/></source>` +
      `<target><path>${mnt(name)}</path></target>${options}</pool>`;
    return {
      poolXml: pool,
      conflictingPoolXml: (name) => pool(name).replace(`<name>${name}</name>`, `<name>${name}</name>`),
      build: true,
      deletePool: true,
      formats: ['raw', 'qcow2', 'vmdk'],
      resize: true,
      shrink: true,
      upload: true,
      download: true,
      wipe: ['zero', 'nnsa'],
      clone: true,
      openFileCheck: mode === 'kernel',
      findSources: { spec: `<source><host name='${nfs.host}'/></source>`, expect: `<dir path='${nfs.path}'/>` },
      async addExternalVolume(name) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(join(nfs.path, name), Buffer.alloc(1 << 20, 2));
      },
      qemu: skipReason({ tools: ['qemu-system-x86_64'] }) ?? true,
      leftovers: () => [],
    };
  },
});

void kernelHasFilesystem;
