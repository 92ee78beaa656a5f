import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@virtkit/core';
import { QmpCommandError } from '../qmp/errors.js';
import { type Accelerator, probeAccelerator } from '../process/accel.js';
import { binaryIdentity, cacheKey, defaultCacheDir } from '../process/binary-id.js';
import { DEFAULT_QEMU_BINARY, findQemuBinary } from '../process/binary.js';
import { QemuProcess } from '../process/qemu-process.js';
import { QemuCapabilities } from './capabilities.js';
import { PROBED_DEVICE_TYPES, PROBED_OBJECT_TYPES } from './flags.js';
import { capsFromExchanges } from './from-exchanges.js';
import type { QemuCapsData, QmpExchange } from './types.js';

export interface ProbeQemuCapsOptions {
  binary?: string;
  /** Disk cache folder (default ~/.cache/virtkit/qemu); false: do not cache. */
  cacheDir?: string | false;
  /** Probe KVM too (default: when probeAccelerator says KVM works). */
  accelerators?: Accelerator[];
}

// Bump when the probe or QemuCapsData changes, so old cache files are ignored.
const PROBE_FORMAT = 2;

const memo = new Map<string, Promise<QemuCapabilities>>();

type Request = { command: string; args?: Record<string, unknown> };

async function run(qemu: QemuProcess, requests: Request[]): Promise<QmpExchange[]> {
  // All in flight at once: QEMU answers in order, the round trip is paid once.
  return Promise.all(
    requests.map(async (r): Promise<QmpExchange> => {
      const ex: QmpExchange = { command: r.command };
      if (r.args) ex.args = r.args;
      try {
        ex.return = await qemu.qmp!.execute(r.command, r.args);
      } catch (err) {
        if (!(err instanceof QmpCommandError)) throw err;
        ex.error = { class: err.errorClass, desc: err.desc };
      }
      return ex;
    }),
  );
}

async function probeRound(binary: string, accel: Accelerator, full: boolean): Promise<QmpExchange[]> {
  const runDir = await mkdtemp(join(tmpdir(), 'virtkit-caps-'));
  let qemu: QemuProcess | undefined;
  try {
    qemu = await QemuProcess.launch({
      name: 'capabilities-probe',
      uuid: randomUUID(),
      binary,
      runDir,
      paused: true,
      args: ['-machine', `none,accel=${accel}`, '-nodefaults', '-no-user-config', '-display', 'none'],
    });
    const head: QmpExchange[] = [{ command: 'qmp_capabilities', return: {} }];
    if (!full) {
      return [
        ...head,
        ...(await run(qemu, [
          { command: 'query-cpu-definitions' },
          { command: 'query-cpu-model-expansion', args: { type: 'static', model: { name: 'max' } } },
          { command: 'query-cpu-model-expansion', args: { type: 'static', model: { name: 'max', props: { migratable: false } } } },
          { command: 'query-machines' },
        ])),
      ];
    }
    const first = await run(qemu, [
      { command: 'query-version' },
      { command: 'query-target' },
      { command: 'query-qmp-schema' },
      { command: 'query-commands' },
      { command: 'query-kvm' },
      { command: 'qom-list-types' },
    ]);
    const types = new Set(((first[5]!.return ?? []) as Array<{ name: string }>).map((t) => t.name));
    const hostModel = accel === 'kvm' ? 'host' : 'max';
    const rest = await run(qemu, [
      ...PROBED_DEVICE_TYPES.filter((t) => types.has(t)).map((t) => ({ command: 'device-list-properties', args: { typename: t } })),
      ...PROBED_OBJECT_TYPES.filter((t) => types.has(t)).map((t) => ({ command: 'qom-list-properties', args: { typename: t } })),
      { command: 'query-machines' },
      { command: 'query-cpu-definitions' },
      { command: 'query-tpm-models' },
      { command: 'query-tpm-types' },
      { command: 'query-command-line-options' },
      { command: 'query-migrate-capabilities' },
      { command: 'query-sev-capabilities' },
      { command: 'query-sgx-capabilities' },
      { command: 'query-cpu-model-expansion', args: { type: 'static', model: { name: hostModel } } },
      { command: 'query-cpu-model-expansion', args: { type: 'static', model: { name: hostModel, props: { migratable: false } } } },
    ]);
    return [...head, ...first, ...rest];
  } finally {
    await qemu?.destroy().catch(() => {});
    await rm(runDir, { recursive: true, force: true });
  }
}

/**
 * Probes a QEMU binary once (`-machine none -S`, every query pipelined) and
 * caches the result on disk, keyed by the binary's path, mtime and size, as
 * libvirt's qemuCaps cache does. A second call in the same process is free.
 */
export async function probeQemuCaps(options: ProbeQemuCapsOptions = {}): Promise<QemuCapabilities> {
  const binary = await findQemuBinary(options.binary ?? DEFAULT_QEMU_BINARY);
  const id = await binaryIdentity(binary);
  const accels = options.accelerators ?? ((await probeAccelerator({ binary, cacheDir: options.cacheDir || undefined })).accel === 'kvm' ? ['kvm', 'tcg'] : ['tcg']);
  const key = cacheKey(PROBE_FORMAT, id, accels);
  const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const memoKey = `${key}\0${cacheDir}`;
  let p = memo.get(memoKey);
  if (!p) {
    p = probeCached(binary, key, accels, cacheDir);
    memo.set(memoKey, p);
    p.catch(() => memo.delete(memoKey));
  }
  return p;
}

async function probeCached(binary: string, key: string, accels: Accelerator[], cacheDir: string | false): Promise<QemuCapabilities> {
  const file = cacheDir ? join(cacheDir, `caps-${key}.json`) : undefined;
  if (file) {
    try {
      const data = JSON.parse(await readFile(file, 'utf8')) as QemuCapsData;
      if (data.format === 1 && data.binary === binary) return new QemuCapabilities(data);
    } catch {
      // not cached (or unreadable): probe
    }
  }
  const exchanges: QmpExchange[] = [];
  for (let i = 0; i < accels.length; i++) exchanges.push(...(await probeRound(binary, accels[i]!, i === 0)));
  const data = capsFromExchanges(exchanges, binary);
  if (file) await writeFileAtomic(file, JSON.stringify(data), 0o644).catch(() => {});
  return new QemuCapabilities(data);
}
