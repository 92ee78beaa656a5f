// Container start + stop (a busybox container whose init waits for SIGTERM):
//   virtkit  — the API (define once; start, destroy) and the CLI (`virtkit start`, `virtkit destroy`)
//   limit    — lxc-start -d / lxc-stop -k on the same LXC config, straight
//   libvirt  — libvirt 9.0's LXC driver (Debian 12's libvirt-daemon-driver-lxc, installed here
//              for the bench only), alone in a private libvirtd: its API via python3-libvirt and virsh
// Run as root: `pnpm bench lxc` (after `pnpm build`). Leaves no daemon, container or cgroup behind.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, PluginLoader } from '@virtkit/core';
import { buildLxcConfig, cgroupLayout, parseLxcDomain } from '@virtkit/driver-lxc';
import { buildBusyboxRootfs, canRunLxcTests, containerXml, removeRootfs } from '@virtkit/driver-lxc/testing';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..');
const repo = join(pkgDir, '..', '..');
const { measure, median, report, ensureDebianPackages, have } = await import(join(repo, 'bench', 'lib.mjs'));

const can = canRunLxcTests();
if (!can.ok) {
  console.log(`(LXC bench skipped: ${can.why})`);
  process.exit(0);
}

const N = Number(process.env.BENCH_N ?? 15);
const TAG = `vkb${process.pid % 10000}`;
const INIT = ['/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done'];
const work = mkdtempSync(join(tmpdir(), `${TAG}-`));
spawnSync('chmod', ['711', work]);
const rootfs = await buildBusyboxRootfs(mkdtempSync(join(tmpdir(), `${TAG}-fs-`)));
const results = {};
let libvirtd;

function sh(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...opts, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin`, ...(opts.env ?? {}) } });
  if (r.status !== 0 && !opts.allowFailure) throw new Error(`${argv.join(' ')}: ${(r.stderr || r.stdout || '').trim()}`);
  return r;
}

async function benchVirtkit() {
  const root = join(work, 'vk');
  mkdirSync(root, { mode: 0o711 });
  const uri = `lxc:///embed?root=${root}`;
  const conn = await Connection.open(uri, { loader: new PluginLoader({ roots: [], pluginPath: pkgDir }) });
  try {
    const d = await conn.defineDomainXml(containerXml(`${TAG}-vk`, rootfs, { init: INIT }));
    results.api = median(await measure(async () => {
      await d.start();
      await d.destroy();
    }, N));
    // The CLI: one process per command, as a user types them.
    const cli = join(repo, 'apps', 'cli', 'dist', 'bin.js');
    if (existsSync(cli)) {
      const env = { VIRTKIT_DEFAULT_URI: uri };
      results.cli = median(await measure(() => {
        sh([process.execPath, cli, 'start', d.name], { env });
        sh([process.execPath, cli, 'destroy', d.name], { env });
      }, N));
    }
    await d.undefine();
  } finally {
    await conn.close();
  }
}

async function benchLimit() {
  const lxcpath = join(work, 'raw');
  const name = `${TAG}-raw`;
  mkdirSync(join(lxcpath, name), { recursive: true, mode: 0o711 });
  const def = parseLxcDomain(containerXml(name, rootfs, { init: INIT }));
  const cfg = buildLxcConfig(def, { layout: await cgroupLayout() });
  writeFileSync(join(lxcpath, name, 'config'), cfg.text);
  results.limit = median(await measure(() => {
    sh(['lxc-start', '-d', '-n', name, '-P', lxcpath, '--', ...cfg.argv]);
    sh(['lxc-stop', '-k', '-n', name, '-P', lxcpath]);
  }, N));
}

function startLibvirtd() {
  if (!ensureDebianPackages(['libvirt-daemon-driver-lxc', 'libvirt-clients'])) return undefined;
  const driverSo = ['/usr/lib/x86_64-linux-gnu/libvirt/connection-driver', '/usr/lib64/libvirt/connection-driver', '/usr/lib/libvirt/connection-driver']
    .map((d) => join(d, 'libvirt_driver_lxc.so'))
    .find((f) => existsSync(f));
  if (!driverSo || !existsSync('/usr/sbin/libvirtd') || !have('virsh')) return undefined;
  if (spawnSync('pgrep', ['-x', 'libvirtd']).status === 0) {
    console.log('(a libvirtd is already running on this host; libvirt side skipped)');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), `${TAG}-lv-`));
  // Only the LXC driver (no QEMU, no network driver: no default network), sockets in our folder.
  const drivers = join(dir, 'drivers');
  mkdirSync(drivers);
  symlinkSync(driverSo, join(drivers, 'libvirt_driver_lxc.so'));
  const conf = join(dir, 'daemon.conf');
  writeFileSync(conf, `unix_sock_dir = "${dir}"\nlog_outputs = "3:file:${join(dir, 'daemon.log')}"\n`);
  const pidFile = join(dir, 'daemon.pid');
  libvirtd = { dir, pidFile };
  sh(['/usr/sbin/libvirtd', '--daemon', '--config', conf, '--pid-file', pidFile], { env: { LIBVIRT_DRIVER_DIR: drivers } });
  const sock = join(dir, 'libvirt-sock');
  for (let i = 0; i < 100 && !existsSync(sock); i++) spawnSync('sleep', ['0.1']);
  return existsSync(sock) ? `lxc:///system?socket=${sock}` : undefined;
}

// What libvirt's LXC driver leaves on the host when it was not there before: its state folder, the machine cgroups.
const LIBVIRT_LXC_STATE = '/run/libvirt/lxc';
const hadLibvirtState = existsSync(LIBVIRT_LXC_STATE);
const machineCgroups = ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'systemd', 'unified', '']
  .map((c) => join('/sys/fs/cgroup', c, 'machine'))
  .filter((d) => !existsSync(d));

function stopLibvirtd() {
  if (!libvirtd) return;
  let pid = 0;
  try {
    pid = Number(readFileSync(libvirtd.pidFile, 'utf8').trim());
    process.kill(pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  for (let i = 0; i < 50 && pid && existsSync(`/proc/${pid}`); i++) spawnSync('sleep', ['0.1']);
  rmSync(libvirtd.dir, { recursive: true, force: true });
  if (!hadLibvirtState) rmSync(LIBVIRT_LXC_STATE, { recursive: true, force: true });
  else for (const suffix of ['.dev', '.devpts', '.fuse', '.sock', '.pid', '.xml', '.log']) rmSync(join(LIBVIRT_LXC_STATE, `${TAG}-lv${suffix}`), { recursive: true, force: true });
  for (const d of machineCgroups) spawnSync('rmdir', [d]);
}

async function benchLibvirt() {
  const uri = startLibvirtd();
  if (!uri) return;
  const name = `${TAG}-lv`;
  const file = join(work, 'lv.xml');
  writeFileSync(file, containerXml(name, rootfs, { init: INIT }));
  const virsh = (args, allowFailure = false) => sh(['virsh', '-q', '-c', uri, ...args], { allowFailure });
  const def = virsh(['define', file], true);
  if (def.status !== 0) {
    console.log(`(libvirt's LXC driver refused the definition: ${def.stderr.trim()})`);
    return;
  }
  try {
    const probe = virsh(['start', name], true);
    if (probe.status !== 0) {
      console.log(`(libvirt's LXC driver cannot start containers here: ${probe.stderr.trim().split('\n').pop()})`);
      return;
    }
    virsh(['destroy', name]);
    results.virsh = median(await measure(() => {
      virsh(['start', name]);
      virsh(['destroy', name]);
    }, N));
    // The API in one process, as virtkit's API line is measured.
    const py = `import libvirt, sys, time
c = libvirt.open(sys.argv[1]); d = c.lookupByName(sys.argv[2]); ts = []
for i in range(int(sys.argv[3]) + 1):
    t = time.perf_counter(); d.create(); d.destroy(); ts.append((time.perf_counter() - t) * 1000)
print(sorted(ts[1:])[len(ts[1:]) // 2])`;
    const r = spawnSync('/usr/bin/python3', ['-c', py, uri, name, String(N)], { encoding: 'utf8' });
    if (r.status === 0) results.libvirtApi = Number(r.stdout.trim());
  } finally {
    virsh(['destroy', name], true);
    virsh(['undefine', name], true);
  }
}

try {
  await benchVirtkit();
  await benchLimit();
  await benchLibvirt();
} finally {
  stopLibvirtd();
  for (const [p, n] of [[join(work, 'raw'), `${TAG}-raw`]]) sh(['lxc-stop', '-k', '-n', n, '-P', p], { allowFailure: true });
  await removeRootfs(rootfs);
  rmSync(work, { recursive: true, force: true });
}
report('container start+stop (API)', results.api, results.limit, results.libvirtApi ?? NaN);
if (results.cli !== undefined) report('container start+stop (CLI vs virsh)', results.cli, results.limit, results.virsh ?? NaN);
