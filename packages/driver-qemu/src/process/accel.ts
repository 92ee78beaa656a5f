import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@virtkit/core';
import { binaryIdentity, bootId, cacheKey, defaultCacheDir } from './binary-id.js';
import { DEFAULT_QEMU_BINARY, findQemuBinary } from './binary.js';

export type Accelerator = 'kvm' | 'tcg';

export interface AcceleratorProbe {
  accel: Accelerator;
  /** Why KVM was not chosen, when it was not. */
  reason?: string;
}

export interface ProbeAcceleratorOptions {
  binary?: string;
  cacheDir?: string;
  /** How long the KVM test guest may take before KVM is judged broken (default 2 s). */
  timeoutMs?: number;
}

/**
 * The KVM test guest: a 64 KiB firmware image (source: accel-probe.S) that
 * goes from real mode to protected mode, takes a PIT interrupt through the
 * 8259 and the LAPIC, enters long mode and writes 0x31 to isa-debug-exit, so
 * QEMU exits with status 99. A nested or half-working /dev/kvm that opens
 * fine but cannot run a Linux guest fails this (seen: stuck on the first
 * far jump into protected mode).
 */
const ACCEL_PROBE_CODE =
  'fab800f08ed8660f011640010f20c06683c8010f22c066ea1e000f00080066b810008ed88ec08ed0bc00700000c705f000e0feff010000c7055003e0fe000700000f011d46010f00b011e620b008e621b004e621b001e621b0fee621b034e643b0a9e640b004e640fbf4ebfdfab020e620bf0010000031c0b9000c0000f3abc7050010000003200000c7050020000003300000c7050030000083000000b8001000000f22d80f20e083c8200f22e0b9800000c00f320d000100000f300f20c00d000000800f22c0eace000f001800b031e6f4f4ebfd8d74000000000000000000ffff0000009acf00ffff00000092cf00ffff0000009aaf00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006c000800008e0f006700d8000f004700f8000f';
/** At the reset vector 0xFFFF0: ljmp f000:0000. */
const ACCEL_PROBE_RESET = 'ea000000f0';
const PROBE_EXIT_STATUS = 99;

export function accelProbeFirmware(): Buffer {
  const img = Buffer.alloc(65536);
  Buffer.from(ACCEL_PROBE_CODE, 'hex').copy(img, 0);
  Buffer.from(ACCEL_PROBE_RESET, 'hex').copy(img, 0xfff0);
  return img;
}

const memo = new Map<string, Promise<AcceleratorProbe>>();

/**
 * KVM when /dev/kvm opens and really runs a guest, else TCG. Probed once per
 * binary and boot (cached in memory and on disk); VIRTKIT_QEMU_ACCEL=kvm|tcg
 * overrides.
 */
export async function probeAccelerator(options: ProbeAcceleratorOptions = {}): Promise<AcceleratorProbe> {
  const forced = process.env.VIRTKIT_QEMU_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return { accel: forced, reason: 'VIRTKIT_QEMU_ACCEL' };
  const binary = await findQemuBinary(options.binary ?? DEFAULT_QEMU_BINARY);
  const key = `${binary}\0${options.cacheDir ?? ''}`;
  let p = memo.get(key);
  if (!p) {
    p = probeUncached(binary, options);
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  return p;
}

async function kvmOpens(): Promise<string | undefined> {
  try {
    const fh = await open('/dev/kvm', constants.O_RDWR);
    await fh.close();
    return undefined;
  } catch (err) {
    return `/dev/kvm: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

async function probeUncached(binary: string, options: ProbeAcceleratorOptions): Promise<AcceleratorProbe> {
  const notOpen = await kvmOpens();
  if (notOpen) return { accel: 'tcg', reason: notOpen };
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const id = await binaryIdentity(binary);
  const file = join(cacheDir, `accel-${cacheKey(id, await bootId())}.json`);
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as AcceleratorProbe;
    if (cached.accel === 'kvm' || cached.accel === 'tcg') return cached;
  } catch {
    // not cached yet
  }
  const result = await runKvmProbe(binary, cacheDir, options.timeoutMs ?? 2000);
  await writeFileAtomic(file, JSON.stringify(result) + '\n', 0o644).catch(() => {});
  return result;
}

async function runKvmProbe(binary: string, cacheDir: string, timeoutMs: number): Promise<AcceleratorProbe> {
  await mkdir(cacheDir, { recursive: true });
  const fw = join(cacheDir, 'accel-probe.bin');
  await writeFile(fw, accelProbeFirmware());
  const args = ['-machine', 'pc,accel=kvm', '-m', '16', '-nodefaults', '-no-user-config', '-display', 'none', '-bios', fw,
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=1'];
  return new Promise((resolve) => {
    let stderr = '';
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ accel: 'tcg', reason: `KVM probe could not run ${binary}: ${err.message}` });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === PROBE_EXIT_STATUS) resolve({ accel: 'kvm' });
      else if (signal) resolve({ accel: 'tcg', reason: `KVM opens but a test guest did not finish within ${timeoutMs} ms` });
      else resolve({ accel: 'tcg', reason: `KVM test guest failed (status ${code}): ${stderr.trim().split('\n').pop() ?? ''}` });
    });
  });
}
