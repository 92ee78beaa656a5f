/**
 * Starts the installed QEMU (TCG) to the `prelaunch` state with the command
 * lines virtkit generates for libvirt's qemuxml2argv inputs, using the
 * installed binary's own probed capabilities. Inputs that need descriptors
 * passed in, host resources (taps, hugepages, host NUMA nodes, host
 * devices, TLS files, vhost, TPM, servers to connect to) or a newer QEMU
 * are counted as not eligible. Storage paths are pointed at scratch images.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parseDomainXml, type DomainDef, type StorageSource, sharedDataDir } from '@virtkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { probeQemuCaps } from '../caps/probe.js';
import type { QemuCapabilities } from '../caps/capabilities.js';
import { defaultQemuDriverConfig } from '../defaults/config.js';
import { qemuParserConfig } from '../defaults/parser-config.js';
import { QmpClient } from '../qmp/client.js';
import { buildQemuCommandLine } from './build.js';

const run = promisify(execFile);
const BINARY = '/usr/bin/qemu-system-x86_64';
const DATA_DIR = sharedDataDir('conformance/qemu-argv');
const BUDGET_MS = 150_000;
const PARALLEL = 2;

const children = new Set<ChildProcess>();
// Short paths: UNIX socket paths must stay under 108 bytes.
const scratch = mkdtempSync(join(tmpdir(), 'vkp-'));
let caseNo = 0;

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/** Why an input can't start on this host without outside help, or undefined. */
function hostOnlyReason(def: DomainDef): string | undefined {
  const d = def.devices;
  if (def.type === 'kvm') return 'kvm';
  if (def.memoryBacking?.hugepages) return 'hugepages';
  if (def.numatune?.memory?.nodeset || def.numatune?.memnodes.length) return 'host NUMA nodes';
  if (d.memories.some((m) => m.nodemask || m.path)) return 'host NUMA nodes / nvdimm files';
  if (def.os.kernel || def.os.initrd || def.os.dtb) return 'kernel images';
  if (def.os.loader?.path && !existsSync(def.os.loader.path)) return 'firmware image';
  if (def.launchSecurity) return 'launch security';
  if (d.interfaces.some((n) => !['user', 'mcast', 'udp', 'server', 'client'].includes(n.type) || n.backend?.type === 'passt')) return 'host network';
  if (d.interfaces.some((n) => n.type === 'client' || n.type === 'udp')) return 'network peer';
  if (d.hostdevs.length) return 'host devices';
  if (d.tpms.length) return 'tpm';
  if (d.vsock) return 'vsock';
  if (d.filesystems.length) return 'host file systems';
  if (d.shmems.some((s) => s.server)) return 'ivshmem server';
  if (d.smartcards.length) return 'smartcard';
  if (d.inputs.some((i) => i.type === 'passthrough' || i.type === 'evdev')) return 'host input devices';
  if (d.graphics.some((g) => g.type !== 'vnc' && g.type !== 'spice')) return 'display';
  if (d.graphics.some((g) => g.gl?.enable)) return 'OpenGL';
  if (d.graphics.some((g) => g.listens.some((l) => l.socket && !existsSync(dirname(l.socket))))) return 'display socket directory';
  if (def.features?.hyperv && Object.values(def.features.hyperv.features).some((v) => v === true)) return 'Hyper-V enlightenments need KVM';
  if (d.videos.some((v) => v.backend === 'vhostuser' || v.accel?.accel3d)) return 'vhost-user / GL video';
  if (d.audios.some((a) => !['none', 'spice'].includes(a.type))) return 'host audio';
  if (d.rngs.some((r) => r.backend === 'egd' || (r.backend === 'random' && r.file && r.file !== '/dev/urandom' && r.file !== '/dev/random'))) return 'rng source';
  const chrs = [...d.serials, ...d.parallels, ...d.channels, ...d.consoles].map((c) => c.source);
  chrs.push(...d.redirdevs.map((r) => r.source));
  for (const s of chrs) {
    if (['dev', 'pipe', 'nmdm', 'dbus', 'qemu-vdagent'].includes(s.type)) return `chardev ${s.type}`;
    if ((s.type === 'tcp' || s.type === 'unix') && !s.listen) return 'chardev peer';
    if (s.type === 'tcp' && s.tls) return 'TLS';
    if (s.log) return 'chardev log';
  }
  for (const disk of d.disks) {
    if (disk.device === 'lun') return 'host SCSI device';
    for (let s: StorageSource | null | undefined = disk.src; s; s = s.backingStore) {
      if (!['file', 'block', 'dir'].includes(s.type)) return `${s.type} storage`;
      if (s.fdgroup || s.reservations || s.encryption || s.slices?.length) return 'storage extras';
    }
    if (disk.src.backingStore) return 'backing chains';
  }
  if (def.os.nvram?.source && def.os.nvram.source.type !== 'file') return 'network nvram';
  return undefined;
}

/** Points every local image at a scratch image of the right format. */
async function useScratchStorage(def: DomainDef, dir: string): Promise<void> {
  let n = 0;
  for (const disk of def.devices.disks) {
    const src = disk.src;
    if (!src.path) continue;
    const path = join(dir, `disk${n++}`);
    if (src.type === 'dir') {
      mkdirSync(path);
    } else {
      const fmt = src.format === 'qcow2' ? 'qcow2' : 'raw';
      if (fmt === 'raw') writeFileSync(path, Buffer.alloc(1024 * 1024));
      else await run('qemu-img', ['create', '-q', '-f', 'qcow2', path, '16M']);
      src.type = 'file';
    }
    src.path = path;
  }
  const d = def.devices;
  for (const c of [...d.serials, ...d.parallels, ...d.channels, ...d.consoles]) {
    if (c.source.type === 'file') c.source.path = join(dir, `chardev${n++}`);
  }
  const nv = def.os.nvram;
  if (nv && (nv.path || nv.source?.path)) {
    const path = join(dir, 'VARS.fd');
    writeFileSync(path, readFileSync('/usr/share/OVMF/OVMF_VARS.fd'));
    delete nv.source;
    nv.path = path;
  }
}

async function waitForSocket(path: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(path)) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('monitor socket did not appear');
}

let nextPort = 16900;

async function startToPrelaunch(name: string, xml: string, caps: QemuCapabilities): Promise<{ ok: boolean; reason?: string }> {
  const base = join(scratch, String(caseNo++));
  mkdirSync(base);
  void name;
  const config = defaultQemuDriverConfig({
    libDir: join(base, 'lib'), stateDir: join(base, 'run'), nvramDir: join(base, 'nvram'), memoryBackingDir: join(base, 'ram'),
  });
  config.channelTargetDir = join(base, 'channel');
  // Without /dev/kvm the KVM inputs run under TCG.
  const noKvm = !caps.machines('kvm').length;
  const source = noKvm ? xml.replace(/(<domain\b[^>]*\btype=)(['"])kvm\2/, '$1$2qemu$2') : xml;
  const def = parseDomainXml(source, { inactive: true, config: qemuParserConfig(caps, { config }) });
  const why = hostOnlyReason(def);
  if (why) return { ok: false, reason: `not eligible: ${why}` };
  await useScratchStorage(def, base);
  const key = randomBytes(32);
  const cmd = buildQemuCommandLine(def, caps, {
    config, masterKey: key, lookupSecret: () => 'secret', allocatePort: () => nextPort++, env: { PATH: '/usr/bin:/bin', USER: 'root', LOGNAME: 'root' },
  });
  const libDir = cmd.env.find(([k]) => k === 'HOME')![1];
  mkdirSync(libDir, { recursive: true });
  mkdirSync(join(config.channelTargetDir, `domain--1-${[...def.name].slice(0, 20).join('')}`), { recursive: true });
  mkdirSync(config.memoryBackingDir, { recursive: true });
  writeFileSync(join(libDir, 'master-key.aes'), key);
  // A start creates the variable store from its template (qemuPrepareNVRAM).
  const nvram = def.os.nvram?.path;
  if (nvram && !existsSync(nvram)) {
    mkdirSync(dirname(nvram), { recursive: true });
    writeFileSync(nvram, readFileSync(def.os.nvram?.template ?? '/usr/share/OVMF/OVMF_VARS.fd'));
  }
  const child = spawn(cmd.binary, cmd.args, { env: Object.fromEntries(cmd.env), stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await waitForSocket(join(libDir, 'monitor.sock'), child);
    // The socket file appears just before QEMU listens on it.
    let qmp: QmpClient | undefined;
    for (let attempt = 0; !qmp; attempt++) {
      try {
        qmp = await QmpClient.connect(join(libDir, 'monitor.sock'), { timeoutMs: 10_000 });
      } catch (e) {
        if (attempt > 40 || child.exitCode !== null) throw e;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    try {
      const st = (await qmp.execute('query-status')) as { status: string };
      return st.status === 'prelaunch' ? { ok: true } : { ok: false, reason: `status ${st.status}` };
    } finally {
      await qmp.close();
    }
  } catch (e) {
    await Promise.race([exited, new Promise((r) => setTimeout(r, 500))]);
    return { ok: false, reason: (stderr.trim().split('\n').pop() ?? '') || (e as Error).message };
  } finally {
    child.kill('SIGKILL');
    await exited;
    children.delete(child);
  }
}

describe.skipIf(!DATA_DIR || !existsSync(BINARY))('installed QEMU starts virtkit command lines', () => {
  it('brings eligible qemuxml2argv inputs to prelaunch', { timeout: 200_000 }, async () => {
    const caps = await probeQemuCaps({ binary: BINARY, accelerators: ['tcg'] });
    const rows = readFileSync(join(DATA_DIR!, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    const inputs = rows.filter(([, kind, , , args]) => kind === 'convert' && !/needs=vhost|fdgroup\.|pool\.|flags=|cfg\.|env\./.test(args ?? ''));
    const results: Array<{ name: string; ok: boolean; reason?: string }> = [];
    const started = Date.now();
    let i = 0;
    const worker = async () => {
      while (i < inputs.length && Date.now() - started < BUDGET_MS) {
        const [name, , input] = inputs[i++]!;
        const xml = readFileSync(join(DATA_DIR!, input!), 'utf8');
        try {
          results.push({ name: name!, ...(await startToPrelaunch(name!, xml, caps)) });
        } catch (e) {
          results.push({ name: name!, ok: false, reason: `not eligible: ${(e as Error).message}` });
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const ok = results.filter((r) => r.ok);
    const failed = results.filter((r) => !r.ok && !r.reason?.startsWith('not eligible'));
    const skipped = results.length - ok.length - failed.length;
    console.log(`prelaunch: ${ok.length} started, ${failed.length} failed, ${skipped} not eligible, ${inputs.length - results.length} not tried (time budget)`);
    for (const f of failed) console.log(`  FAILED ${f.name}: ${f.reason}`);
    if (process.env.VIRTKIT_PRELAUNCH_VERBOSE) for (const r of results.filter((x) => x.reason?.startsWith('not eligible'))) console.log(`  skipped ${r.name}: ${r.reason}`);
    // A few of libvirt's own command lines are refused by QEMU (IDE bus 2 on
    // i440fx, iommu_platform on transitional virtio, …): failures are listed,
    // the floor guards against regressions.
    expect(ok.length).toBeGreaterThanOrEqual(100);
  });
});
