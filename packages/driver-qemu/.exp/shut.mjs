import { Connection, PluginLoader } from '@virtkit/core';
import { buildTestGuest, testGuestDomainXml, killQemusMatching } from '../dist/test-support.js';
import { mkdtempSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const root = mkdtempSync(join(tmpdir(), 'vk-shut-'));
const loader = new PluginLoader({ roots: [], pluginPath: process.cwd() });
const g = await buildTestGuest();
const conn = await Connection.open(`qemu:///embed?root=${root}`, { loader });
try {
  const d = await conn.defineDomainXml(testGuestDomainXml(g, 'shut'));
  await d.start();
  await d.suspend(); await d.resume(); console.log(await d.getInfo());
  const t0 = Date.now();
  await d.shutdown({ waitMs: 15000 }).catch(e => console.log('ERR', e.message));
  console.log('took', Date.now() - t0);
  console.log(readFileSync(join(root, 'lib/qemu/log/shut.log'), 'utf8').slice(-2000));
} finally {
  await killQemusMatching(root);
  await conn.close();
  rmSync(root, { recursive: true, force: true });
}
