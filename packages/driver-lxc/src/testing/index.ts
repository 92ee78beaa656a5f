/**
 * Test support for real containers (`@virtkit/driver-lxc/testing`): a
 * busybox root filesystem built at run time from Debian's busybox-static,
 * container XML for it, running a command inside a container, and the
 * checks that a host is able to run them at all.
 */
import { spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { escapeXml } from '@virtkit/core';
import { cgroupFoldersOf, cgroupLayout } from '../host/cgroups.js';

const PATH = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin`;

function sh(argv: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { input, env: { ...process.env, PATH }, timeout: 60_000 });
  return { code: r.status ?? 1, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? (r.error ? String(r.error) : '') };
}

/** Where busybox-static's binary is (Debian installs /bin/busybox; usrmerge makes it /usr/bin/busybox). */
export function findBusybox(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!existsSync(p)) continue;
    // A dynamically linked busybox would need the host's libraries inside the container.
    const f = sh(['sh', '-c', `LC_ALL=C ldd ${p} 2>&1 || true`]).stdout;
    if (/not a dynamic executable|statically linked/.test(f)) return p;
  }
  return undefined;
}

/** Whether real container tests can run here, and if not, why. */
export function canRunLxcTests(): { ok: boolean; why?: string } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, why: 'needs root' };
  for (const tool of ['lxc-start', 'lxc-stop', 'lxc-info', 'lxc-attach', 'lxc-freeze', 'ip', 'script', 'nsenter']) {
    if (sh(['sh', '-c', `command -v ${tool}`]).code !== 0) return { ok: false, why: `needs ${tool}` };
  }
  if (!findBusybox()) return { ok: false, why: 'needs a static busybox (apt-get install busybox-static)' };
  return { ok: true };
}

const INIT_SCRIPT = `#!/bin/sh
# A container init that stops cleanly on SIGTERM and logs to the console.
trap 'echo "init: stopping"; exit 0' TERM
echo "init: up as pid $$ on $(hostname)"
while :; do sleep 1 & wait $!; done
`;

const UDHCPC_SCRIPT = `#!/bin/sh
# busybox udhcpc event script: set the leased address and default route.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set dev "$interface" up ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip -4 addr add "$ip/$mask" dev "$interface"
    if [ -n "$router" ]; then ip -4 route add default via "\${router%% *}" dev "$interface" 2>/dev/null; fi
    ;;
esac
exit 0
`;

/**
 * Builds a root filesystem with busybox and its applet links, the mount
 * points LXC needs, /etc/passwd and group, an init script (/sbin/vkinit)
 * and udhcpc's event script. Returns its folder (mode 0755, so mapped
 * user namespaces can use it too).
 */
export async function buildBusyboxRootfs(parent?: string): Promise<string> {
  const busybox = findBusybox();
  if (!busybox) throw new Error('no static busybox found (apt-get install busybox-static)');
  const base = parent ?? (await mkdtemp(join(tmpdir(), 'vkl-rootfs-')));
  const dir = parent ? join(parent, 'rootfs') : join(base, 'rootfs');
  for (const d of ['bin', 'sbin', 'proc', 'sys', 'dev', 'tmp', 'etc/udhcpc', 'run', 'mnt', 'root', 'var', 'usr/share/udhcpc']) await mkdir(join(dir, d), { recursive: true });
  await chmod(base, 0o755);
  await chmod(dir, 0o755);
  await chmod(join(dir, 'tmp'), 0o1777);
  await copyFile(busybox, join(dir, 'bin', 'busybox'));
  await chmod(join(dir, 'bin', 'busybox'), 0o755);
  const applets = sh([busybox, '--list']).stdout.split('\n').map((s) => s.trim()).filter((s) => /^[a-z0-9_.[-]+$/i.test(s) && s !== 'busybox');
  for (const a of applets) await symlink('busybox', join(dir, 'bin', a)).catch(() => {});
  await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  await writeFile(join(dir, 'sbin', 'vkinit'), INIT_SCRIPT, { mode: 0o755 });
  // Debian's busybox looks in /etc/udhcpc, upstream's in /usr/share/udhcpc.
  await writeFile(join(dir, 'etc', 'udhcpc', 'default.script'), UDHCPC_SCRIPT, { mode: 0o755 });
  await writeFile(join(dir, 'usr', 'share', 'udhcpc', 'default.script'), UDHCPC_SCRIPT, { mode: 0o755 });
  return dir;
}

export async function removeRootfs(dir: string): Promise<void> {
  await rm(dir.endsWith('/rootfs') ? dir.slice(0, -'/rootfs'.length) : dir, { recursive: true, force: true });
}

export interface ContainerXmlOptions {
  uuid?: string;
  /** Memory in KiB (default 65536). */
  memoryKiB?: number;
  /** Extra <devices> children. */
  devices?: string;
  /** Extra children of <domain> (memtune, cputune, idmap, …). */
  extra?: string;
  /** init and its arguments (default /sbin/vkinit). */
  init?: string[];
  /** Give the container only a loopback device (default true when `devices` has no interface). */
  privnet?: boolean;
  env?: Record<string, string>;
}

/** A container definition running the busybox root filesystem. */
export function containerXml(name: string, rootfs: string, o: ContainerXmlOptions = {}): string {
  const init = o.init ?? ['/sbin/vkinit'];
  const privnet = o.privnet ?? !/<interface|<hostdev/.test(o.devices ?? '');
  return `<domain type='lxc'>
  <name>${escapeXml(name)}</name>
${o.uuid ? `  <uuid>${o.uuid}</uuid>\n` : ''}  <memory unit='KiB'>${o.memoryKiB ?? 65536}</memory>
  <vcpu>1</vcpu>
${o.extra ?? ''}  <os>
    <type>exe</type>
    <init>${escapeXml(init[0]!)}</init>
${init.slice(1).map((a) => `    <initarg>${escapeXml(a)}</initarg>\n`).join('')}${Object.entries(o.env ?? {}).map(([k, v]) => `    <initenv name='${escapeXml(k)}'>${escapeXml(v)}</initenv>\n`).join('')}  </os>
${privnet ? '  <features><privnet/></features>\n' : ''}  <devices>
    <filesystem type='mount'>
      <source dir='${escapeXml(rootfs)}'/>
      <target dir='/'/>
    </filesystem>
${o.devices ?? ''}    <console type='pty'/>
  </devices>
</domain>
`;
}

/** Runs a command inside a running container (lxc-attach); `lxcpath` is `<root>/run/lxc/containers` of an embed URI. */
export function runInContainer(lxcpath: string, lxcName: string, argv: string[], input?: string): { code: number; stdout: string; stderr: string } {
  return sh(['lxc-attach', '-n', lxcName, '-P', lxcpath, '--clear-env', '--', ...argv], input);
}

/** The lxcpath of an `lxc:///embed?root=ROOT` URI. */
export function embedLxcpath(root: string): string {
  return join(root, 'run', 'lxc', 'containers');
}

/** A short per-run prefix for names of host-wide things (veths, bridges, cgroups). */
export function runTag(tag: string): string {
  return `${tag}${(process.pid % 10000).toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
}

/** The host pid of a running container's init (lxc-info), or undefined. */
export function containerInitPid(lxcpath: string, lxcName: string): number | undefined {
  const r = sh(['lxc-info', '-n', lxcName, '-P', lxcpath, '-p', '-H']);
  const pid = Number(r.stdout.trim().split(/\s+/).pop());
  return r.code === 0 && pid > 0 ? pid : undefined;
}

/** A cgroup control file of the cgroup a process is in (`memory`, `memory.limit_in_bytes`), read as text. */
export async function readProcessCgroupFile(pid: number, controller: string, file: string): Promise<string | undefined> {
  const layout = await cgroupLayout();
  const f = await cgroupFoldersOf(pid, layout);
  const dir = f.v1.get(controller) ?? f.unified;
  if (!dir) return undefined;
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function walkNamed(dir: string, match: (name: string) => boolean, depth: number, out: string[]): void {
  if (depth < 0) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    if (match(e.name)) out.push(p);
    else walkNamed(p, match, depth - 1, out);
  }
}

/**
 * What an embed root's containers must not leave on the host once stopped:
 * running LXC containers in its lxcpath, cgroup folders, host-side veth
 * devices (by UUID tag), mounts under the root.
 */
export async function lxcLeftovers(root: string, uuids: string[] = []): Promise<string[]> {
  const out: string[] = [];
  const lxcpath = embedLxcpath(root);
  const running = sh(['lxc-ls', '-P', lxcpath, '--running', '-1']).stdout.split('\n').filter(Boolean);
  for (const c of running) out.push(`container ${c}`);
  const tag = `vkl.${createHash('sha256').update(lxcpath).digest('hex').slice(0, 8)}.`;
  const layout = await cgroupLayout();
  const found: string[] = [];
  for (const mount of new Set([...layout.v1.values(), ...(layout.unified ? [layout.unified] : [])])) walkNamed(mount, (n) => n.startsWith(tag), 4, found);
  for (const f of found) out.push(`cgroup ${f}`);
  const links = sh(['ip', '-o', 'link', 'show']).stdout;
  for (const u of uuids) {
    const t = `vk${u.replace(/-/g, '').slice(0, 8)}`;
    for (const m of links.matchAll(new RegExp(`^[0-9]+: (${t}[np][0-9]+)`, 'gm'))) out.push(`device ${m[1]}`);
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(root)) out.push(`mount ${line}`);
  return out;
}
