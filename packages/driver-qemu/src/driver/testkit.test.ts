import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, PluginLoader } from '@virtkit/core';
import { runDriverTestkit } from '@virtkit/driver-testkit';
import { buildTestGuest, killQemusMatching, testGuestDomainXml, type TestGuest } from '../test-support.js';

// The shared driver suite on real QEMU guests (TCG) in a temporary embed root.
const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
const loader = new PluginLoader({ roots: [], pluginPath: pkgDir });
const root = mkdtempSync(join(tmpdir(), 'vk-qemu-tk-'));
const uri = `qemu:///embed?root=${root}`;
let guest: TestGuest | undefined;

runDriverTestkit({
  name: 'qemu:///embed',
  open: async () => {
    guest = await buildTestGuest();
    return Connection.open(uri, { loader });
  },
  openReadonly: () => Connection.open(uri, { loader, readonly: true }),
  domainXml: (name, uuid) => testGuestDomainXml(guest!, name, uuid ? { uuid } : {}),
  guestHandlesShutdown: true,
  timeoutMs: 60_000,
  cleanup: async () => {
    if (process.env.VK_DEBUG) {
      const { readdirSync, readFileSync } = await import('node:fs');
      for (const f of readdirSync(join(root, 'lib/qemu/log'))) console.log(f, readFileSync(join(root, 'lib/qemu/log', f), 'utf8').slice(-800));
    }
    await killQemusMatching(root);
    rmSync(root, { recursive: true, force: true });
  },
});
