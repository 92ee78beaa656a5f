import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPoolOptionsXml } from '@virtkit/core';
import { haveDeviceMapper, loopsUnder, makeLoopDevice, removeVolumeGroups, runStorageBackendTestkit, skipReason, volumeGroups } from '@virtkit/storage-testkit';

const pluginPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let work = '';
let vgPrefix = '';

runStorageBackendTestkit({
  name: `logical (lvm2 on loop devices, activation ${haveDeviceMapper() ? 'on' : 'off: no device-mapper here'})`,
  poolType: 'logical',
  pluginPath,
  skip: () => skipReason({ root: true, tools: ['losetup', 'pvcreate', 'vgcreate', 'lvcreate', 'lvs', 'blkid', 'qemu-img'] }),
  async setup({ prefix, workDir, cleanup }) {
    work = workDir;
    vgPrefix = prefix;
    // Removed last (registered first): groups a failed test left on the devices.
    cleanup.add('remove volume groups', () => removeVolumeGroups(prefix));
    const a = makeLoopDevice(workDir, `${prefix}-pv0.img`, 128 << 20, cleanup);
    const b = makeLoopDevice(workDir, `${prefix}-pv1.img`, 128 << 20, cleanup);
    cleanup.add('remove volume groups before detaching', () => removeVolumeGroups(prefix));
    const options = haveDeviceMapper() ? '' : formatPoolOptionsXml({ activation: 'no' });
    const pool = (name: string, vg: string) =>
      `<pool type='logical'><name>${name}</name><source><device path='${a.device}'/><device path='${b.device}'/><name>${vg}</name><format type='lvm2'/></source><target><path>/dev/${vg}</path></target>${options}</pool>`;
    return {
      poolXml: (name) => pool(name, `${prefix}vg`),
      conflictingPoolXml: (name) => pool(name, `${prefix}vg`),
      build: true,
      deletePool: true,
      formats: ['raw'],
      resize: true,
      shrink: true,
      upload: true,
      download: true,
      wipe: haveDeviceMapper() ? ['zero', 'dod', 'trim'] : ['zero', 'dod'],
      clone: true,
      findSources: { expect: `<name>${prefix}vg</name>` },
      qemu: skipReason({ tools: ['qemu-system-x86_64'] }) ?? true,
      leftovers: () => [...loopsUnder(work), ...volumeGroups(vgPrefix)],
    };
  },
});
