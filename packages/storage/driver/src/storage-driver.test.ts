import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection, PluginLoader, VirtError } from '@virtkit/core';

const dir = mkdtempSync(join(tmpdir(), 'vk-storage-uri-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const loader = () => new PluginLoader({ pluginPath: join(dirname(fileURLToPath(import.meta.url)), '..', '..'), roots: [] });

describe('storage:/// connections', () => {
  it('open with the local storage driver and no guests', async () => {
    const conn = await Connection.open(`storage:///embed?root=${dir}`, { loader: loader() });
    expect(conn.supports('storage')).toBe(true);
    expect(conn.supports('domain.lifecycle')).toBe(false);
    expect(await conn.listAllStoragePools()).toEqual([]);
    await expect(conn.listAllDomains()).rejects.toBeInstanceOf(VirtError);
    await conn.close();
  });

  it('refuses paths other than system, session and embed', async () => {
    await expect(Connection.open('storage:///nowhere', { loader: loader() })).rejects.toMatchObject({ code: 'INVALID_ARG' });
  });
});
