import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CleanupStack } from './cleanup.js';
import { isRoot, missingTools, runPrefix, skipReason, startDaemon } from './fixtures/host.js';
import { loopsUnder, makeLoopDevice } from './fixtures/loop.js';

const dir = mkdtempSync(join(tmpdir(), 'vk-stk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CleanupStack', () => {
  it('undoes newest first, goes on past failures and reports them', async () => {
    const order: string[] = [];
    const c = new CleanupStack();
    c.add('first', () => void order.push('first'));
    c.add('broken', () => {
      throw new Error('boom');
    });
    c.add('last', async () => void order.push('last'));
    expect(await c.run()).toEqual(['broken: boom']);
    expect(order).toEqual(['last', 'first']);
    expect(await c.run()).toEqual([]); // each step runs once
  });
});

describe('host fixtures', () => {
  it('makes short per-run prefixes for host-wide names', () => {
    const a = runPrefix();
    expect(a).toMatch(/^vk[0-9a-z]{2}[0-9a-f]{4}$/);
    expect(runPrefix()).not.toBe(a);
  });

  it('says why a fixture cannot run', () => {
    expect(missingTools(['sh', 'no-such-tool-vk'])).toEqual(['no-such-tool-vk']);
    expect(skipReason({ tools: ['no-such-tool-vk'] })).toBe('missing no-such-tool-vk');
    expect(skipReason({ tools: ['sh'], check: () => 'no device-mapper' })).toBe('no device-mapper');
    expect(skipReason({ tools: ['sh'] })).toBeUndefined();
  });

  it('stops a daemon it started and waits for its exit', async () => {
    const d = startDaemon(['sleep', '30']);
    expect(d.exited()).toBe(false);
    await d.stop();
    expect(d.exited()).toBe(true);
  });

  it.skipIf(!isRoot() || missingTools(['losetup']).length > 0)('attaches a loop device that its cleanup detaches (root, losetup)', async () => {
    const c = new CleanupStack();
    try {
      const { file, device } = makeLoopDevice(dir, 'disk.img', 8 << 20, c);
      expect(loopsUnder(dir)).toEqual([device]);
      expect(existsSync(file)).toBe(true);
      expect(await c.run()).toEqual([]);
      expect(loopsUnder(dir)).toEqual([]);
      expect(existsSync(file)).toBe(false);
    } finally {
      await c.run();
    }
  });
});
