import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repositoryRoot, sharedDataDir } from './shared-data.js';

describe('sharedDataDir', () => {
  const saved = process.env.VIRTKIT_SHARED;
  afterEach(() => {
    if (saved === undefined) delete process.env.VIRTKIT_SHARED;
    else process.env.VIRTKIT_SHARED = saved;
  });

  it('finds the checkout this module runs from', () => {
    expect(repositoryRoot()).toMatch(/.+/);
  });

  it('prefers $VIRTKIT_SHARED and answers undefined for what is in neither place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vk-shared-'));
    try {
      mkdirSync(join(dir, 'only-here'));
      process.env.VIRTKIT_SHARED = dir;
      expect(sharedDataDir('only-here')).toBe(join(dir, 'only-here'));
      expect(sharedDataDir('no-such-folder-anywhere')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
