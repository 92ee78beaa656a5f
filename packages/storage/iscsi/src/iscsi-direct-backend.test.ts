import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStorageBackendTestkit, skipReason, startTgtd } from '@virtkit/storage-testkit';

const pluginPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

runStorageBackendTestkit({
  name: 'iscsi-direct (tgtd on 127.0.0.1, libiscsi in user space)',
  poolType: 'iscsi-direct',
  pluginPath,
  skip: () => skipReason({ root: true, tools: ['tgtd', 'tgtadm', 'iscsi-ls', 'iscsi-readcapacity16', 'qemu-nbd'] }),
  async setup({ prefix, workDir, cleanup }) {
    const t = await startTgtd({ dir: workDir, prefix, lunBytes: [32 << 20, 16 << 20], cleanup });
    const initiator = `iqn.2024-01.dev.virtkit:${prefix}-initiator`;
    const pool = (name: string) =>
      `<pool type='iscsi-direct'><name>${name}</name><source><host name='${t.host}' port='${t.port}'/><device path='${t.iqn}'/>` +
      `<initiator><iqn name='${initiator}'/></initiator></source></pool>`;
    return {
      poolXml: pool,
      build: false,
      formats: [],
      existingVolumes: ['unit:0:0:1', 'unit:0:0:2'],
      upload: true,
      download: true,
      wipe: ['zero', 'dod'],
      findSources: {
        spec: `<source><host name='${t.host}' port='${t.port}'/><initiator><iqn name='${initiator}'/></initiator></source>`,
        expect: `<device path='${t.iqn}'/>`,
      },
      qemu: skipReason({ tools: ['qemu-system-x86_64'] }) ?? true,
    };
  },
});
