import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection } from './connection.js';
import { VirtError } from './errors.js';
import { PluginLoader } from './loader.js';

const root = mkdtempSync(join(tmpdir(), 'vk-loader-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function plugin(dir: string, pj: object, code?: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pj));
  if (code !== undefined) writeFileSync(join(dir, 'index.js'), code);
  return dir;
}

// A module that records being imported, so the test can tell discovery from loading.
const recordingDriver = (scheme: string) => `
globalThis.__vkImported = [...(globalThis.__vkImported ?? []), '${scheme}'];
export default async (ctx) => ({
  name: '${scheme}', uri: ctx.uri.raw, capabilities: new Set(),
  getHostname: async () => 'h', getVersion: async () => ({ hypervisor: 'X', version: '1.0.0' }),
  getCapabilities: async () => '<capabilities/>', getNodeInfo: async () => ({}), close: async () => {},
});`;

describe('PluginLoader', () => {
  const nm = join(root, 'project', 'node_modules');
  plugin(join(nm, 'virtkit-driver-alpha'), { name: 'virtkit-driver-alpha', type: 'module', main: 'index.js', virtkit: { kind: 'hypervisor', schemes: ['alpha'] } }, recordingDriver('alpha'));
  plugin(join(nm, '@acme', 'virtkit-driver-beta'), { name: '@acme/virtkit-driver-beta', type: 'module', exports: { '.': { import: './index.js' } }, virtkit: { kind: 'hypervisor', schemes: ['beta'] } }, recordingDriver('beta'));
  plugin(join(nm, 'virtkit-driver-broken'), { name: 'virtkit-driver-broken', type: 'module', main: 'index.js', virtkit: { kind: 'hypervisor', schemes: ['broken'] } }, 'throw new Error("kaput");');
  plugin(join(nm, 'unrelated'), { name: 'unrelated', virtkit: { kind: 'hypervisor', schemes: ['nope'] } });
  const extra = plugin(join(root, 'extra', 'gamma'), { name: 'gamma-plugin', type: 'module', main: 'index.js', virtkit: { kind: 'hypervisor', schemes: ['gamma'] } }, recordingDriver('gamma'));
  plugin(join(root, 'bad'), { name: 'bad-kind', virtkit: { kind: 'wizard' } });

  it('finds plugins by their package.json without importing them', () => {
    const loader = new PluginLoader({ roots: [join(root, 'project')], pluginPath: `${join(root, 'extra')}:${join(root, 'bad')}` });
    const names = loader.list().map((m) => m.name).sort();
    expect(names).toEqual(['@acme/virtkit-driver-beta', 'gamma-plugin', 'virtkit-driver-alpha', 'virtkit-driver-broken']);
    expect(loader.findHypervisor('beta')?.dir).toBe(join(nm, '@acme', 'virtkit-driver-beta'));
    expect((globalThis as { __vkImported?: string[] }).__vkImported).toBeUndefined();
    expect(loader.problems.map((p) => p.where)).toContain('bad-kind');
  });

  it('imports only the plugin a URI needs', async () => {
    const loader = new PluginLoader({ roots: [join(root, 'project')], pluginPath: extra });
    const conn = await Connection.open('beta:///x', { loader });
    expect(conn.driver.name).toBe('beta');
    expect((globalThis as { __vkImported?: string[] }).__vkImported).toEqual(['beta']);
    await conn.close();
    const g = await Connection.open('gamma:///x', { loader });
    expect(g.getUri()).toBe('gamma:///x');
    await g.close();
  });

  it('reports a plugin that fails to load by name and cause', async () => {
    const loader = new PluginLoader({ roots: [join(root, 'project')] });
    const err = await Connection.open('broken:///x', { loader }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VirtError);
    expect((err as VirtError).code).toBe('NO_CONNECT');
    expect((err as VirtError).message).toMatch(/virtkit-driver-broken.*kaput/);
  });

  it('says when no driver opens a URI, and refuses closed connections', async () => {
    const loader = new PluginLoader({ roots: [join(root, 'project')] });
    await expect(Connection.open('nothing:///x', { loader })).rejects.toMatchObject({ code: 'NO_CONNECT' });
    await expect(Connection.open('nothing+ssh://h/x', { loader })).rejects.toMatchObject({ code: 'NO_CONNECT' });
    const conn = await Connection.open('alpha:///x', { loader, readonly: true });
    await expect(conn.defineDomainXml('<domain/>')).rejects.toMatchObject({ code: 'OPERATION_DENIED' });
    await expect(conn.listAllDomains()).rejects.toMatchObject({ code: 'NO_SUPPORT' });
    await conn.close();
    await expect(conn.getHostname()).rejects.toMatchObject({ code: 'INVALID_CONN' });
  });
});
