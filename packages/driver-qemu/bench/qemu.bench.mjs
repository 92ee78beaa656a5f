#!/usr/bin/env node
// The QEMU driver against its limit and its peer, side by side in one run:
//   virtkit  — the driver's API (qemu:///embed in a temp dir), and its CLI
//   limit    — raw QEMU: the same command line virtkit builds, spawned with a
//              QMP socket on fd 3, driven with bare QMP (no state, no locks)
//   libvirt  — libvirt 9.0 from Debian (libvirtd + QEMU driver, qemu:///system,
//              python3-libvirt, one connection), on the same domain
// Operations: start, destroy, suspend, resume, save+restore, a start/destroy
// cycle through the CLI (virtkit vs virsh), and 20 guests started at once.
// libvirtd/virtlogd are started here (packages installed when missing, as
// root) and always stopped again; libvirt's default network is not started.
//
//   node packages/driver-qemu/bench/qemu.bench.mjs      (BENCH_RUNS=10, BENCH_LIBVIRT=0 to skip libvirt)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, have, median, now, report } from '../../../bench/lib.mjs';
import { rawQemu, rawStop } from './raw-qemu.mjs';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(pkgDir, '../..');
const cli = join(repo, 'apps/cli/dist/bin.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const CONCURRENT = 20;
const dir = mkdtempSync(join(tmpdir(), 'vk-qemu-bench-'));
const uri = `qemu:///embed?root=${dir}/vk`;

// One domain for all three: 64 MiB, no disk (SeaBIOS finds nothing to boot and idles).
const TEMPLATE = `<domain type='qemu'>
  <name>@NAME@</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices><memballoon model='virtio'/></devices>
</domain>
`;
const xmlOf = (name) => TEMPLATE.replace('@NAME@', name);

if (!existsSync(join(pkgDir, 'dist/index.js'))) {
  console.error('build first: pnpm build');
  process.exit(1);
}
const { Connection, PluginLoader } = await import('@virtkit/core');
const qemu = await import(join(pkgDir, 'dist/index.js'));

async function timed(fn) {
  const t = now();
  await fn();
  return now() - t;
}

// ---------------------------------------------------------------- virtkit

/** virtkit's side: setup, one round of the single-guest operations, the rest, teardown. */
async function virtkitSide() {
  const conn = await Connection.open(uri, { loader: new PluginLoader({ roots: [], pluginPath: pkgDir }) });
  const r = { start: [], destroy: [], suspend: [], resume: [], saveRestore: [], concurrent20: [], cli: [] };
  const d = await conn.defineDomainXml(xmlOf('vkb-vk'));
  await d.start();
  await d.destroy(); // warm-up: capabilities, parser, caches
  return {
    r,
    async round() {
      r.start.push(await timed(() => d.start()));
      r.suspend.push(await timed(() => d.suspend()));
      r.resume.push(await timed(() => d.resume()));
      const file = join(dir, 'vk.save');
      r.saveRestore.push(await timed(async () => {
        await d.save(file);
        await conn.restoreDomain(file);
      }));
      rmSync(file, { force: true });
      r.destroy.push(await timed(() => d.destroy()));
    },
    async rest() {
      const many = [];
      for (let i = 0; i < CONCURRENT; i++) many.push(await conn.defineDomainXml(xmlOf(`vkb-vk${i}`)));
      for (let k = 0; k < Math.max(1, RUNS >> 2); k++) {
        r.concurrent20.push(await timed(() => Promise.all(many.map((x) => x.start()))));
        await Promise.all(many.map((x) => x.destroy()));
      }
      for (const x of many) await x.undefine();
      const vk = (...a) => {
        const p = spawnSync(process.execPath, [cli, '-c', uri, ...a], { stdio: 'ignore' });
        if (p.status !== 0) throw new Error(`virtkit ${a.join(' ')} failed`);
      };
      vk('start', 'vkb-vk');
      vk('destroy', 'vkb-vk');
      for (let i = 0; i < RUNS; i++) r.cli.push(await timed(async () => { vk('start', 'vkb-vk'); vk('destroy', 'vkb-vk'); }));
    },
    async close() {
      for (const x of await conn.listAllDomains().catch(() => [])) {
        if (x.id >= 0) await x.destroy().catch(() => {});
        await x.undefine().catch(() => {});
      }
      await conn.close();
    },
  };
}

// ---------------------------------------------------------------- raw QEMU (the limit)

/** The argv virtkit runs for the bench domain (same machine, devices, options). */
async function rawArgs(name, id) {
  const conn = await Connection.open(`qemu:///embed?root=${dir}/raw-ctx`, { loader: new PluginLoader({ roots: [], pluginPath: pkgDir }) });
  try {
    const domains = conn.driver.domains;
    const def = await domains.parse(xmlOf(name));
    const caps = await domains.ctx.caps();
    const runDir = domains.ctx.paths.runDir(id, name);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'master-key.aes'), randomBytes(32));
    return qemu.runtimeCommandLine(domains.ctx, def, caps, { id, accel: 'tcg', runDir }).args;
  } finally {
    await conn.close();
  }
}

/** A running raw guest (paused with `paused`). */
async function rawStart(args, extra = [], paused = false) {
  const g = await rawQemu(dir, [...args, ...extra]);
  if (!paused) await g.q.call('cont');
  return g;
}

async function rawSide() {
  const args = await rawArgs('vkb-raw', 1);
  const r = { start: [], destroy: [], suspend: [], resume: [], saveRestore: [], concurrent20: [], cli: [] };
  await rawStop(await rawStart(args)); // warm-up
  return {
    r,
    async round() {
      let g;
      r.start.push(await timed(async () => (g = await rawStart(args))));
      r.suspend.push(await timed(() => g.q.call('stop')));
      r.resume.push(await timed(() => g.q.call('cont')));
      r.saveRestore.push(await timed(async () => {
        // Same mechanism as virtkit: migrate to a unix socket copied into a file, restore with -incoming defer + fd:4.
        const file = join(dir, 'raw.save');
        const sockPath = join(dir, 'mig.sock');
        rmSync(sockPath, { force: true });
        let done;
        const srv = createServer((c) => (done = pipeline(c, createWriteStream(file))));
        await new Promise((res) => srv.listen(sockPath, res));
        await g.q.call('stop');
        await g.q.call('migrate-set-parameters', { 'max-bandwidth': 2 ** 53 - 1 });
        await g.q.call('migrate', { uri: `unix:${sockPath}` });
        for (;;) {
          const m = await g.q.call('query-migrate');
          if (m.status === 'completed') break;
          await new Promise((res) => setTimeout(res, 5));
        }
        await done;
        srv.close();
        await rawStop(g);
        const fd = openSync(file, 'r');
        const ng = await rawStartWithFd(args, fd);
        closeSync(fd);
        for (;;) {
          const st = await ng.q.call('query-status');
          if (st.status !== 'inmigrate') break;
          await new Promise((res) => setTimeout(res, 2));
        }
        await ng.q.call('cont');
        g = ng;
      }));
      r.destroy.push(await timed(() => rawStop(g)));
    },
    async rest() {
      for (let k = 0; k < Math.max(1, RUNS >> 2); k++) {
        let gs;
        r.concurrent20.push(await timed(async () => (gs = await Promise.all(Array.from({ length: CONCURRENT }, () => rawStart(args))))));
        await Promise.all(gs.map(rawStop));
      }
      for (let i = 0; i < RUNS; i++) r.cli.push(await timed(async () => rawStop(await rawStart(args))));
    },
  };
}

/** A raw QEMU loading a saved state from `fd` (fd 4 in QEMU). */
async function rawStartWithFd(args, fd) {
  const g = await rawQemu(dir, [...args, '-incoming', 'defer'], [fd]);
  await g.q.call('migrate-incoming', { uri: 'fd:4' });
  return g;
}

// ---------------------------------------------------------------- libvirt (the peer)

function waitFile(path, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (existsSync(path)) return true;
    spawnSync('sleep', ['0.05']);
  }
  return false;
}

async function libvirtSide() {
  const none = { start: [], destroy: [], suspend: [], resume: [], saveRestore: [], concurrent20: [], cli: [] };
  if (!ensureDebianPackages(['libvirt-daemon-system', 'libvirt-daemon-driver-qemu', 'libvirt-clients', 'python3-libvirt']) || !have('libvirtd')) {
    console.log('(libvirt not available: run as root to install libvirt-daemon-system)');
    return none;
  }
  if (existsSync('/run/libvirt/libvirt-sock')) {
    const r = spawnSync('virsh', ['-c', 'qemu:///system', 'version'], { stdio: 'ignore' });
    if (r.status === 0) {
      console.log('(a libvirtd is already running here: not measuring libvirt to leave it alone)');
      return none;
    }
  }
  const pids = [];
  const daemons = [];
  try {
    for (const [bin, pidfile] of [['virtlogd', join(dir, 'virtlogd.pid')], ['libvirtd', join(dir, 'libvirtd.pid')]]) {
      const p = spawn(`/usr/sbin/${bin}`, ['--pid-file', pidfile], { stdio: 'ignore' });
      daemons.push(p);
      pids.push(p.pid);
    }
    if (!waitFile('/run/libvirt/libvirt-sock', 15_000)) throw new Error('libvirtd did not open its socket');
    // Wait until it answers (it probes QEMU capabilities on first use).
    for (let i = 0; i < 100 && spawnSync('virsh', ['-c', 'qemu:///system', 'version'], { stdio: 'ignore' }).status !== 0; i++) spawnSync('sleep', ['0.1']);
    const tpl = join(dir, 'template.xml');
    writeFileSync(tpl, TEMPLATE);
    // Debian's python3 (where python3-libvirt is), not one from PATH.
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const py = spawnSync(python, [join(pkgDir, 'bench/libvirt-peer.py'), 'qemu:///system', tpl, String(RUNS), dir, String(CONCURRENT)], { encoding: 'utf8', timeout: 600_000 });
    if (py.status !== 0) throw new Error(`libvirt peer failed: ${py.stderr.slice(-500)}`);
    const r = { ...none, ...JSON.parse(py.stdout) };
    const cliXml = join(dir, 'cli.xml');
    writeFileSync(cliXml, xmlOf('vkb-lvcli'));
    const virsh = (...a) => {
      const p = spawnSync('virsh', ['-q', '-c', 'qemu:///system', ...a], { stdio: 'ignore' });
      if (p.status !== 0) throw new Error(`virsh ${a.join(' ')} failed`);
    };
    virsh('define', cliXml);
    try {
      virsh('start', 'vkb-lvcli');
      virsh('destroy', 'vkb-lvcli');
      for (let i = 0; i < RUNS; i++) r.cli.push(await timed(async () => { virsh('start', 'vkb-lvcli'); virsh('destroy', 'vkb-lvcli'); }));
    } finally {
      spawnSync('virsh', ['-q', '-c', 'qemu:///system', 'destroy', 'vkb-lvcli'], { stdio: 'ignore' });
      spawnSync('virsh', ['-q', '-c', 'qemu:///system', 'undefine', 'vkb-lvcli'], { stdio: 'ignore' });
    }
    return r;
  } finally {
    // Stop exactly the daemons started here, and check nothing of libvirt's stays.
    for (const p of daemons.reverse()) {
      if (p.exitCode !== null) continue;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
    if (spawnSync('ip', ['link', 'show', 'virbr0'], { stdio: 'ignore' }).status === 0) console.log('(warning: virbr0 exists after the run)');
  }
}

// ---------------------------------------------------------------- run and report

try {
  // virtkit and the limit take turns, round by round, so both see the same machine.
  const vkSide = await virtkitSide();
  const rawS = await rawSide();
  try {
    for (let i = 0; i < RUNS; i++) {
      await vkSide.round();
      await rawS.round();
    }
    await vkSide.rest();
    await rawS.rest();
  } finally {
    await vkSide.close();
  }
  const vk = vkSide.r;
  const raw = rawS.r;
  // BENCH_LIBVIRT=0: virtkit against the limit only (a quicker run while tuning).
  const lv = process.env.BENCH_LIBVIRT === '0' ? {} : await libvirtSide().catch((err) => {
    console.log(`(libvirt side failed: ${err.message})`);
    return {};
  });
  console.log(`QEMU driver, ${RUNS} runs each (medians), TCG, 64 MiB guest, ${CONCURRENT} for the concurrent start`);
  const rows = [
    ['start (API)', 'start'],
    ['destroy (API)', 'destroy'],
    ['suspend (API)', 'suspend'],
    ['resume (API)', 'resume'],
    ['save + restore (API)', 'saveRestore'],
    ['start + destroy through the CLI', 'cli'],
    [`${CONCURRENT} guests started concurrently (API)`, 'concurrent20'],
  ];
  for (const [label, k] of rows) report(label, median(vk[k]), median(raw[k]), median(lv[k] ?? []));
} finally {
  // No QEMU of this run stays behind.
  await (await import(join(pkgDir, 'dist/test-support.js'))).killQemusMatching(dir);
  rmSync(dir, { recursive: true, force: true });
}
