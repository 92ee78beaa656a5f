// Storage: create, clone and delete N qcow2 volumes in a dir pool through
// virtkit's API (and its CLI, one process for all N commands), against
// calling qemu-img directly (the limit) and libvirt 9.0's vol-* through one
// virsh process per phase (the peer: a session libvirtd run as `nobody`,
// stopped afterwards; no system daemon, no default network).
//
//   node bench/storage.bench.mjs [N]          (after `pnpm build`)
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { have, now, report } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 200);
const SIZE = '16M';
const work = mkdtempSync(join(tmpdir(), 'vk-bench-storage-'));
chmodSync(work, 0o755);
const results = {};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}… failed: ${(r.stderr || r.stdout || '').slice(-400)}`);
  return r.stdout;
}

async function timed(label, fn) {
  const t = now();
  await fn();
  return now() - t;
}

// ---------------------------------------------------------------- the limit: qemu-img itself
async function limit() {
  const dir = join(work, 'limit');
  mkdirSync(dir);
  const out = {};
  out.create = await timed('create', () => {
    for (let i = 0; i < N; i++) run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', join(dir, `v${i}.qcow2`), SIZE]);
  });
  out.clone = await timed('clone', () => {
    for (let i = 0; i < N; i++) run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'qcow2', join(dir, `v${i}.qcow2`), join(dir, `c${i}.qcow2`)]);
  });
  out.delete = await timed('delete', () => {
    for (let i = 0; i < N; i++) {
      unlinkSync(join(dir, `v${i}.qcow2`));
      unlinkSync(join(dir, `c${i}.qcow2`));
    }
  });
  return out;
}

// ---------------------------------------------------------------- virtkit through its API
async function virtkitApi() {
  const core = await import(join(root, 'packages/core/dist/index.js'));
  const loader = new core.PluginLoader({ pluginPath: join(root, 'packages/storage'), roots: [] });
  const conn = await core.Connection.open(`storage:///embed?root=${join(work, 'vk-root')}`, { loader });
  const pool = await conn.createStoragePoolXml(`<pool type='dir'><name>bench</name><target><path>${join(work, 'vk')}</path></target></pool>`, { build: true });
  const vols = [];
  const clones = [];
  const out = {};
  out.create = await timed('create', async () => {
    for (let i = 0; i < N; i++) {
      vols.push(await pool.createVolumeXml(`<volume><name>v${i}.qcow2</name><capacity unit='M'>16</capacity><target><format type='qcow2'/></target></volume>`));
    }
  });
  out.clone = await timed('clone', async () => {
    for (let i = 0; i < N; i++) {
      clones.push(await pool.createVolumeXmlFrom(`<volume><name>c${i}.qcow2</name><capacity>0</capacity><target><format type='qcow2'/></target></volume>`, vols[i]));
    }
  });
  out.delete = await timed('delete', async () => {
    for (const v of [...vols, ...clones]) await v.delete();
  });
  await pool.destroy();
  await conn.close();
  return out;
}

// ---------------------------------------------------------------- virtkit CLI: one process for the N commands of a phase
async function virtkitCli() {
  const cli = join(root, 'apps/cli/dist/bin.js');
  if (!existsSync(cli)) return undefined;
  const uri = `storage:///embed?root=${join(work, 'cli-root')}`;
  const env = { ...process.env, VIRTKIT_PLUGIN_PATH: join(root, 'packages/storage') };
  const vk = (script) => run(process.execPath, [cli, '-q', '-c', uri, script], { env, maxBuffer: 64 << 20 });
  vk(`pool-create-as bench dir --target ${join(work, 'cli')} --build`);
  const many = (f) => Array.from({ length: N }, (_, i) => f(i)).join(' ; ');
  const out = {};
  out.create = await timed('create', () => vk(many((i) => `vol-create-as bench v${i}.qcow2 ${SIZE} --format qcow2`)));
  out.clone = await timed('clone', () => vk(many((i) => `vol-clone v${i}.qcow2 c${i}.qcow2 --pool bench`)));
  out.delete = await timed('delete', () => vk(many((i) => `vol-delete v${i}.qcow2 --pool bench ; vol-delete c${i}.qcow2 --pool bench`)));
  vk('pool-destroy bench');
  return out;
}

// ---------------------------------------------------------------- libvirt 9.0: a session libvirtd as `nobody`
async function libvirt() {
  if (!have('virsh') || !existsSync('/usr/sbin/libvirtd') || process.getuid?.() !== 0) return undefined;
  const home = join(work, 'lv-home');
  const pooldir = join(work, 'lv');
  for (const d of [home, pooldir, join(home, 'run')]) {
    mkdirSync(d, { recursive: true });
    chownSync(d, 65534, 65534);
  }
  chmodSync(join(home, 'run'), 0o700);
  const env = { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: join(home, 'run'), XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache') };
  const virsh = (script) => run('runuser', ['-u', 'nobody', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'virsh', '-q', '-c', 'qemu:///session', script], { maxBuffer: 64 << 20 });
  const pidFile = join(home, 'run', 'libvirt', 'libvirtd.pid');
  try {
    virsh(`pool-create-as bench dir --target ${pooldir}`);
    const many = (f) => Array.from({ length: N }, (_, i) => f(i)).join(' ; ');
    const out = {};
    out.create = await timed('create', () => virsh(many((i) => `vol-create-as bench v${i}.qcow2 ${SIZE} --format qcow2`)));
    out.clone = await timed('clone', () => virsh(many((i) => `vol-clone v${i}.qcow2 c${i}.qcow2 --pool bench`)));
    out.delete = await timed('delete', () => virsh(many((i) => `vol-delete v${i}.qcow2 --pool bench ; vol-delete c${i}.qcow2 --pool bench`)));
    virsh('pool-destroy bench');
    return out;
  } finally {
    // The session daemon virsh started for us: stop it by its pid.
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
      }
    }
  }
}

try {
  if (!have('qemu-img')) {
    console.log('qemu-img is not installed: skipped');
    process.exit(0);
  }
  results.limit = await limit();
  results.api = await virtkitApi();
  results.cli = await virtkitCli();
  try {
    results.libvirt = await libvirt();
  } catch (err) {
    console.log(`(libvirt side not measured: ${err.message.split('\n')[0]})`);
  }
  for (const phase of ['create', 'clone', 'delete']) {
    const per = (x) => (x ? x[phase] / N : NaN);
    report(`${N} volumes: ${phase} (API, per volume)`, per(results.api), per(results.limit), per(results.libvirt));
    if (results.cli) report(`${N} volumes: ${phase} (CLI, per volume)`, per(results.cli), per(results.limit), per(results.libvirt));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
