import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { VirtError } from '@virtkit/core';
import { type CpioEntry, writeCpio } from './cpio.js';
import { initScript, TEST_GUEST_PROMPT, TEST_GUEST_READY } from './init-script.js';
import { resolveModules, TEST_GUEST_MODULES } from './modules.js';

export interface TestGuest {
  /** The Debian cloud kernel (bzImage) under /boot. */
  kernel: string;
  /** The initramfs built from busybox-static and the kernel's virtio modules (cached). */
  initrd: string;
  /** Kernel command line: serial console on ttyS0, quiet, panic exits QEMU (with -no-reboot). */
  cmdline: string;
  kernelVersion: string;
  /** Printed on ttyS0 when the guest is ready. */
  readyMarker: string;
  /** The shell prompt on ttyS0. */
  prompt: string;
}

export interface BuildTestGuestOptions {
  /** Folder holding vmlinuz-* (default /boot). */
  bootDir?: string;
  /** Folder holding the kernel module trees (default /lib/modules). */
  modulesRoot?: string;
  /** Kernel version to use (default: the newest *-cloud-amd64, else the newest). */
  kernelVersion?: string;
  busybox?: string;
  /** Cache folder (default $TMPDIR/virtkit-test-guest). */
  cacheDir?: string;
}

// Bump when the init script or the layout changes, so old caches are not reused.
const BUILDER_VERSION = 6;

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    if (!Number.isNaN(nx) && !Number.isNaN(ny) && nx !== ny) return nx - ny;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

async function pickKernel(bootDir: string): Promise<string> {
  let names: string[];
  try {
    names = await readdir(bootDir);
  } catch (err) {
    throw new VirtError('NO_SUPPORT', `test guest: cannot list ${bootDir}: ${(err as Error).message}`, { cause: err });
  }
  const versions = names.filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice('vmlinuz-'.length));
  const cloud = versions.filter((v) => v.endsWith('-cloud-amd64'));
  const pool = cloud.length > 0 ? cloud : versions;
  if (pool.length === 0) {
    throw new VirtError('NO_SUPPORT', `test guest: no kernel in ${bootDir} (install linux-image-cloud-amd64)`);
  }
  return pool.sort(compareVersions).at(-1)!;
}

/**
 * Builds (once per kernel version, then from the cache) the tiny test guest:
 * Debian's cloud kernel plus an initramfs with busybox-static, the virtio,
 * ACPI button and evdev modules, and an /init that answers the power button,
 * onlines hot-plugged CPUs and memory, and gives a shell on ttyS0.
 */
export async function buildTestGuest(options: BuildTestGuestOptions = {}): Promise<TestGuest> {
  const bootDir = options.bootDir ?? '/boot';
  const modulesRoot = options.modulesRoot ?? '/lib/modules';
  const kernelVersion = options.kernelVersion ?? (await pickKernel(bootDir));
  const kernel = join(bootDir, `vmlinuz-${kernelVersion}`);
  if (!(await exists(kernel))) throw new VirtError('NO_SUPPORT', `test guest: kernel ${kernel} not found`);
  let busybox = options.busybox;
  if (!busybox) {
    for (const c of BUSYBOX_CANDIDATES) if (await exists(c)) { busybox = c; break; }
  }
  if (!busybox) throw new VirtError('NO_SUPPORT', 'test guest: busybox not found (install busybox-static)');

  const cmdline = 'console=ttyS0 quiet panic=-1 tsc=unstable no_timer_check';
  const cacheDir = options.cacheDir ?? join(tmpdir(), 'virtkit-test-guest');
  const moduleDir = join(modulesRoot, kernelVersion);
  const modules = await resolveModules(moduleDir, TEST_GUEST_MODULES);
  const key = createHash('sha256')
    .update(JSON.stringify({ v: BUILDER_VERSION, kernelVersion, busybox, modules }))
    .digest('hex')
    .slice(0, 12);
  const initrd = join(cacheDir, `initrd-${kernelVersion}-${key}.img`);
  const guest: TestGuest = { kernel, initrd, cmdline, kernelVersion, readyMarker: TEST_GUEST_READY, prompt: TEST_GUEST_PROMPT };
  if (await exists(initrd)) return guest;

  const bb = await readFile(busybox);
  const entries: CpioEntry[] = [
    { type: 'dir', path: 'bin' },
    { type: 'dir', path: 'dev' },
    { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { type: 'chardev', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
    { type: 'dir', path: 'etc' },
    { type: 'dir', path: 'lib' },
    { type: 'dir', path: 'lib/modules' },
    { type: 'dir', path: 'proc' },
    { type: 'dir', path: 'sys' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: 'bin/busybox', data: bb, mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    { type: 'file', path: 'etc/passwd', data: 'root:x:0:0:root:/:/bin/sh\n' },
  ];
  const names: string[] = [];
  for (const rel of modules) {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    names.push(name);
    entries.push({ type: 'file', path: `lib/modules/${name}`, data: await readFile(join(moduleDir, rel)) });
  }
  entries.push({ type: 'file', path: 'init', data: initScript(names), mode: 0o755 });
  const image = gzipSync(writeCpio(entries), { level: 6 });

  await mkdir(cacheDir, { recursive: true });
  const tmp = `${initrd}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, image);
    await rename(tmp, initrd);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw new VirtError('SYSTEM_ERROR', `test guest: cannot write ${initrd}: ${(err as Error).message}`, { cause: err });
  }
  return guest;
}
