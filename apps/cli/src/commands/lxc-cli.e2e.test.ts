/** The LXC driver from the command line: a busybox container defined, started, reached and removed with `virtkit`. */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxRootfs, canRunLxcTests, containerXml, lxcLeftovers, removeRootfs } from '@virtkit/driver-lxc/testing';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin.js');
const can = canRunLxcTests();

describe.skipIf(!can.ok)('virtkit with lxc:///embed (real containers)', () => {
  let root = '';
  let rootfs = '';
  const name = `vkcli${process.pid % 10000}`;
  const vk = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, [bin, ...args], { input, env: { ...process.env, VIRTKIT_DEFAULT_URI: `lxc:///embed?root=${root}` }, timeout: 60_000 });
    return { code: r.status ?? 1, out: r.stdout.toString(), err: r.stderr.toString() };
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'vkcli-lxc-'));
    chmodSync(root, 0o711);
    rootfs = await buildBusyboxRootfs(mkdtempSync(join(tmpdir(), 'vkcli-fs-')));
  }, 60_000);

  afterAll(async () => {
    vk(['destroy', name]);
    vk(['undefine', name]);
    expect(await lxcLeftovers(root)).toEqual([]);
    await removeRootfs(rootfs);
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  /** `virtkit console`: types a line, waits for `expect` in the output, then leaves with ^]. */
  const consoleSession = (line: string, expectText: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'console', name], { env: { ...process.env, VIRTKIT_DEFAULT_URI: `lxc:///embed?root=${root}` } });
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`console output so far: ${JSON.stringify(out)}`));
      }, 15_000);
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('Escape character') && !out.includes('__typed__')) {
          out += '__typed__';
          child.stdin.write(line);
        }
        if (out.includes(expectText)) child.stdin.end('\x1d');
      });
      child.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });

  it('defines, starts, reaches over the console, and removes a container', async () => {
    const xml = join(root, 'c.xml');
    writeFileSync(xml, containerXml(name, rootfs, { init: ['/bin/sh', '-c', 'while :; do read -r line && eval "$line"; done'] }));
    expect(vk(['define', xml])).toMatchObject({ code: 0 });
    const start = vk(['start', name]);
    expect(start.err).toBe('');
    expect(start.out).toContain(`Domain '${name}' started`);
    expect(vk(['list']).out).toMatch(new RegExp(`^\\s*\\d+\\s+${name}\\s+running`, 'm'));
    expect(vk(['domstate', name, '--reason']).out.trim()).toBe('running (booted)');
    const con = await consoleSession('echo from-$((6*7))\n', 'from-42\r\n');
    expect(con).toContain(`Connected to domain '${name}'`);
    expect(con).toContain('from-42');
    expect(vk(['setmem', name, '32M', '--live']).code).toBe(0);
    expect(vk(['dominfo', name]).out).toMatch(/Max memory:\s+65536 KiB/);
    expect(vk(['schedinfo', name, '--set', 'cpu_shares=512', '--live']).out).toMatch(/cpu_shares\s+: 512/);
    expect(vk(['destroy', name]).code).toBe(0);
    expect(vk(['domstate', name, '--reason']).out.trim()).toBe('shut off (destroyed)');
    expect(vk(['undefine', name]).code).toBe(0);
  }, 60_000);
});
