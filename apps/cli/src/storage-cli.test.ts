import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './main.js';
import type { Output } from './output.js';

// The storage packages of this repository (the dir backend and the storage:/// driver) as plugins.
const storagePackages = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'packages', 'storage');
const haveStorage = existsSync(join(storagePackages, 'dir', 'dist', 'index.js')) && existsSync(join(storagePackages, 'driver', 'dist', 'index.js'));
const dir = mkdtempSync(join(tmpdir(), 'vk-cli-storage-'));
const uri = `storage:///embed?root=${dir}/root`;
const images = join(dir, 'images');

/** Captures output, with the progress bar on (as on a terminal). */
class Capture implements Output {
  stdout = '';
  stderr = '';
  progressText = '';
  readonly progressEnabled = true;
  constructor(private readonly onProgress?: (text: string) => void) {}
  write(text: string): void {
    this.stdout += text;
  }
  error(text: string): void {
    this.stderr += `error: ${text}\n`;
  }
  progress(text: string): void {
    this.progressText += text;
    this.onProgress?.(text);
  }
}

async function vk(line: string, onProgress?: (t: string) => void): Promise<Capture & { code: number }> {
  const o = new Capture(onProgress);
  const code = await main(['-c', uri, ...line.split(' ')], o);
  return Object.assign(o, { code });
}

const suite = haveStorage ? describe : describe.skip;
suite('storage commands on a dir pool (progress bars, cancelling)', () => {
  let saved: string | undefined;
  beforeAll(async () => {
    saved = process.env.VIRTKIT_PLUGIN_PATH;
    process.env.VIRTKIT_PLUGIN_PATH = storagePackages;
    const r = await vk(`pool-define-as p dir --target ${images}`);
    expect(r.stderr).toBe('');
    expect((await vk('pool-build p')).code).toBe(0);
    expect((await vk('pool-start p')).code).toBe(0);
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.VIRTKIT_PLUGIN_PATH;
    else process.env.VIRTKIT_PLUGIN_PATH = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, uploads and clones with a progress bar', async () => {
    expect((await vk('vol-create-as p src 48M --format raw')).code).toBe(0);
    const data = join(dir, 'data.bin');
    writeFileSync(data, randomBytes(40 << 20));
    const up = await vk(`vol-upload src ${data} --pool p`);
    expect(up.code).toBe(0);
    expect(up.progressText).toContain('Uploading: [100 %]');
    const clone = await vk('vol-clone src copy --pool p');
    expect(clone.stderr).toBe('');
    expect(clone.stdout).toContain('Vol copy cloned from src');
    expect(clone.progressText).toContain('Cloning: [100 %]');
    expect(readFileSync(join(images, 'copy')).subarray(0, 40 << 20).equals(readFileSync(data))).toBe(true);
  });

  it('Ctrl-C cancels a clone and leaves no volume', async () => {
    let sent = false;
    const r = await vk('vol-clone src cancelled --pool p', () => {
      if (!sent) {
        sent = true;
        process.emit('SIGINT');
      }
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cancelled/);
    expect(existsSync(join(images, 'cancelled'))).toBe(false);
    expect((await vk('vol-list p')).stdout).not.toContain('cancelled');
  });

  it('downloads sparse files and guards shrinking', async () => {
    const mk = await vk('vol-create-as p holes 32M --allocation 0 --format raw');
    expect(mk.stderr).toBe("");
    const out = join(dir, 'holes.out');
    const dl = await vk(`vol-download holes ${out} --pool p --sparse`);
    expect(dl.stderr).toBe('');
    expect(statSync(out).size).toBe(32 << 20);
    expect(statSync(out).blocks * 512).toBeLessThan(1 << 20);
    const shrink = await vk('vol-resize holes 16M --pool p');
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toMatch(/shrink/);
    expect((await vk('vol-info holes --pool p --bytes')).stdout).toContain(`${32 << 20} bytes`);
    // --physical: the file's size on the host (a sparse raw file: its apparent size), not its allocation
    expect((await vk('vol-info holes --pool p --bytes --physical')).stdout).toMatch(new RegExp(`Physical:\\s+${32 << 20} bytes`));
    const shrunk = await vk('vol-resize holes 16M --pool p --shrink');
    expect(shrunk.stderr).toBe('');
    const wipe = await vk('vol-wipe holes --pool p --algorithm dod');
    expect(wipe.stderr).toBe('');
    expect(wipe.progressText).toContain('Wiping: [100 %]');
  });

  it('cleans up', async () => {
    for (const v of ['src', 'copy', 'holes']) expect((await vk(`vol-delete ${v} --pool p`)).code).toBe(0);
    expect((await vk('pool-destroy p')).code).toBe(0);
    expect((await vk('pool-delete p')).code).toBe(0);
    expect((await vk('pool-undefine p')).code).toBe(0);
  });
});
