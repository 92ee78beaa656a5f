/** The shared driver suite on real containers (a busybox root filesystem built for the run). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { Connection, PluginLoader } from '@virtkit/core';
import { runDriverTestkit } from '@virtkit/driver-testkit';
import { buildBusyboxRootfs, canRunLxcTests, containerXml, removeRootfs, runTag } from './testing/index.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const can = canRunLxcTests();

if (!can.ok) {
  describe.skip(`driver testkit: lxc (${can.why})`, () => it('skipped', () => {}));
} else {
  let root = '';
  let rootfs = '';
  const loader = new PluginLoader({ roots: [], pluginPath: pkgDir });
  const uri = () => `lxc:///embed?root=${root}`;
  const prepare = async () => {
    if (!root) {
      root = await mkdtemp(join(tmpdir(), 'vkl-tk-'));
      rootfs = await buildBusyboxRootfs(await mkdtemp(join(tmpdir(), 'vkl-tkfs-')));
    }
  };
  runDriverTestkit({
    name: 'lxc:///embed (busybox containers)',
    prefix: runTag('vktk'),
    open: async () => {
      await prepare();
      return Connection.open(uri(), { loader });
    },
    openReadonly: async () => {
      await prepare();
      return Connection.open(uri(), { loader, readonly: true });
    },
    domainXml: (name, uuid) => containerXml(name, rootfs, uuid ? { uuid } : {}),
    guestHandlesShutdown: true,
    timeoutMs: 30_000,
    cleanup: async () => {
      if (rootfs) await removeRootfs(rootfs);
      if (root) await rm(root, { recursive: true, force: true });
    },
  });
}
