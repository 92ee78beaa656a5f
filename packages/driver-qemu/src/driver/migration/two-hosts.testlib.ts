/**
 * Two hosts on one machine for the migration tests: network namespaces A
 * and B joined by a veth pair (the link between the hosts, where the
 * migration streams and the peer-to-peer connections go), each with its
 * own OpenSSH sshd and its own virtkitd (`--root` state folder). A link
 * from the machine's own namespace to each host is the "management
 * network" the test (the client) uses. The shared storage is a third
 * namespace S linked to both hosts: rpcbind and nfs-ganesha exporting a
 * folder (in a mount namespace of their own, so their /run — rpcbind's
 * socket — is theirs and nothing of another NFS server on the machine
 * mixes in), seen by both hosts' netfs pools through the user-space NFS
 * client.
 *
 * Everything is named with a per-run prefix and removed by `cleanup()`,
 * also after a failure: daemons, sshd, rpcbind and ganesha, QEMUs,
 * namespaces, links, folders.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, PluginLoader } from '@virtkit/core';
import { NetnsLab, removeByPrefix, runPrefix } from '@virtkit/network-linux/testing';
import { killQemusMatching } from '../../test-guest/domain-xml.js';

const here = dirname(fileURLToPath(import.meta.url));
export const PKG = join(here, '..', '..', '..');
export const REPO = join(PKG, '..', '..');
export const VIRTKITD = join(REPO, 'packages/remote/dist/virtkitd.js');
export const CLI = join(REPO, 'apps/cli/dist/bin.js');
/** The plugins both daemons (and the test's connections) load. */
export const PLUGIN_PATH = [
  PKG,
  join(REPO, 'packages/remote'),
  join(REPO, 'packages/storage/dir'),
  join(REPO, 'packages/storage/netfs'),
].join(':');

const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

function sh(argv: string[], allowFailure = false): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, PATH } });
  if (r.status !== 0 && !allowFailure) throw new Error(`${argv.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout ?? '';
}

/** Why the lab cannot run here, or undefined. */
export function twoHostsSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, sshd, nfs-ganesha)';
  for (const t of ['ip', 'unshare', 'ganesha.nfsd', 'rpcbind', 'rpcinfo', 'qemu-system-x86_64', 'qemu-img', '/usr/sbin/sshd', 'ssh-keygen']) {
    if (spawnSync('sh', ['-c', `PATH='${PATH}' command -v ${t}`], { stdio: 'ignore' }).status !== 0) return `missing ${t}`;
  }
  for (const f of [VIRTKITD, CLI]) {
    try {
      readFileSync(f);
    } catch {
      return `build first (pnpm build): ${f} is missing`;
    }
  }
  return undefined;
}

async function until(what: string, probe: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > end) throw new Error(`${what}: not ready within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A child process and the tail of what it printed. */
interface Proc {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function startProc(argv: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH, ...env } });
  let out = '';
  const keep = (b: Buffer) => (out = (out + b.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return {
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(t);
    },
  };
}

export interface Host {
  name: 'A' | 'B';
  ns: string;
  /** State folder of its virtkitd (`--root`). */
  root: string;
  /** Its address on the link between the hosts, and on the management link. */
  peerAddr: string;
  mgmtAddr: string;
  /** The storage host's address on this host's storage link (where the NFS server answers it). */
  nfsAddr: string;
  /** virtkitd's read-write socket (the test reaches it with +unix). */
  socket: string;
  daemon?: Proc;
  sshd?: Proc;
  /** `qemu+unix://…`: the test's own connection to this host. */
  unixUri: string;
  /** `qemu+ssh://root@MGMT/system?…`: this host as the test (the client) reaches it. */
  sshUri: string;
  /** `qemu+ssh://root@PEER/system?…`: this host as the other host reaches it (peer-to-peer). */
  peerSshUri: string;
}

export class TwoHosts {
  readonly prefix = runPrefix('mg');
  readonly lab = new NetnsLab(this.prefix);
  readonly dir = mkdtempSync(join(tmpdir(), `${this.prefix}-`));
  readonly exportDir = join(this.dir, 'export');
  readonly clientKey = join(this.dir, 'id_ed25519');
  readonly loader = new PluginLoader({ roots: [], pluginPath: PLUGIN_PATH });
  A!: Host;
  B!: Host;
  private readonly procs: Proc[] = [];
  private nfs?: Proc;
  storageNs = '';
  private readonly connections: Connection[] = [];
  nfsPort = 0;

  /** Namespaces, links, NFS, sshd and virtkitd on both hosts. */
  async start(): Promise<void> {
    const net = 100 + Math.floor(Math.random() * 150);
    const sub = 1 + Math.floor(Math.random() * 60) * 4;
    const addr = (link: number, host: number) => `10.${net}.${sub + link}.${host}`;
    const nsA = this.lab.addNamespace('A');
    const nsB = this.lab.addNamespace('B');
    const p = this.prefix;
    // The link between the hosts.
    sh(['ip', 'link', 'add', `${p}ab`, 'netns', nsA, 'type', 'veth', 'peer', 'name', `${p}ba`, 'netns', nsB]);
    sh(['ip', '-n', nsA, 'addr', 'add', `${addr(0, 1)}/24`, 'dev', `${p}ab`]);
    sh(['ip', '-n', nsB, 'addr', 'add', `${addr(0, 2)}/24`, 'dev', `${p}ba`]);
    sh(['ip', '-n', nsA, 'link', 'set', `${p}ab`, 'up']);
    sh(['ip', '-n', nsB, 'link', 'set', `${p}ba`, 'up']);
    // Management links from the machine's namespace.
    const mgmt = (ns: string, end: string, link: number) => {
      sh(['ip', 'link', 'add', `${p}r${end}`, 'type', 'veth', 'peer', 'name', `${p}m${end}`, 'netns', ns]);
      sh(['ip', 'addr', 'add', `${addr(link, 1)}/24`, 'dev', `${p}r${end}`]);
      sh(['ip', 'link', 'set', `${p}r${end}`, 'up']);
      sh(['ip', '-n', ns, 'addr', 'add', `${addr(link, 2)}/24`, 'dev', `${p}m${end}`]);
      sh(['ip', '-n', ns, 'link', 'set', `${p}m${end}`, 'up']);
    };
    mgmt(nsA, 'a', 1);
    mgmt(nsB, 'b', 2);
    // The storage host, linked to both.
    const nsS = this.lab.addNamespace('S');
    this.storageNs = nsS;
    const storage = (ns: string, end: string, link: number) => {
      sh(['ip', 'link', 'add', `${p}s${end}`, 'netns', nsS, 'type', 'veth', 'peer', 'name', `${p}${end}s`, 'netns', ns]);
      sh(['ip', '-n', nsS, 'addr', 'add', `${addr(link, 1)}/24`, 'dev', `${p}s${end}`]);
      sh(['ip', '-n', nsS, 'link', 'set', `${p}s${end}`, 'up']);
      sh(['ip', '-n', ns, 'addr', 'add', `${addr(link, 2)}/24`, 'dev', `${p}${end}s`]);
      sh(['ip', '-n', ns, 'link', 'set', `${p}${end}s`, 'up']);
    };
    storage(nsA, 'a', 3);
    storage(nsB, 'b', 4);

    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'virtkit-migration-test', '-f', this.clientKey]);
    mkdirSync(this.exportDir, { recursive: true, mode: 0o755 });
    await this.startNfs();

    const host = (name: 'A' | 'B', ns: string, link: number, peer: string, nfsLink: number): Host => {
      const root = join(this.dir, name.toLowerCase());
      mkdirSync(root, { recursive: true });
      const socket = join(this.dir, `${name.toLowerCase()}.sock`);
      const q = `socket=${socket}&keyfile=${this.clientKey}&no_verify=1&keepalive_interval=1&keepalive_count=3`;
      return {
        name, ns, root, socket, peerAddr: peer, mgmtAddr: addr(link, 2), nfsAddr: addr(nfsLink, 1),
        unixUri: `qemu+unix:///system?socket=${socket}`,
        sshUri: `qemu+ssh://root@${addr(link, 2)}/system?${q}`,
        peerSshUri: `qemu+ssh://root@${peer}/system?${q}`,
      };
    };
    this.A = host('A', nsA, 1, addr(0, 1), 3);
    this.B = host('B', nsB, 2, addr(0, 2), 4);
    for (const h of [this.A, this.B]) {
      await this.startSshd(h);
      await this.startDaemon(h);
    }
  }

  /** rpcbind and nfs-ganesha in the storage namespace, with a /run of their own. */
  private async startNfs(): Promise<void> {
    const conf = join(this.dir, 'ganesha.conf');
    const recovery = join(this.dir, 'ganesha-recovery');
    const log = join(this.dir, 'ganesha.log');
    mkdirSync(recovery, { recursive: true });
    this.nfsPort = 2049;
    writeFileSync(
      conf,
      `NFS_CORE_PARAM {
  NFS_Port = ${this.nfsPort};
  MNT_Port = 20048;
  Enable_NLM = false;
  Enable_RQUOTA = false;
  Protocols = 3;
}
NFSV4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = "${recovery}"; }
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
  Export_Id = 78;
  Path = "${this.exportDir}";
  Pseudo = "/${this.prefix}";
  Protocols = 3;
  Transports = TCP;
  Access_Type = RW;
  Squash = No_Root_Squash;
  SecType = sys;
  FSAL { Name = VFS; }
}
`,
    );
    const script = [
      'set -e',
      // A private /run: rpcbind's socket and ganesha's state are this storage host's alone.
      'mount -t tmpfs -o mode=755 tmpfs /run',
      'rpcbind -f &',
      'for i in $(seq 200); do [ -S /run/rpcbind.sock ] && break; sleep 0.05; done',
      `exec ganesha.nfsd -F -L ${log} -f ${conf} -p ${join(this.dir, 'ganesha.pid')}`,
    ].join('\n');
    this.nfs = startProc(['ip', 'netns', 'exec', this.storageNs, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script]);
    this.procs.push(this.nfs);
    const ready = () => /\s100003\s+3\s+tcp/.test(sh(['ip', 'netns', 'exec', this.storageNs, 'rpcinfo', '-p', '127.0.0.1'], true));
    await until('nfs-ganesha', () => ready() || this.nfs!.child.exitCode !== null, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${this.nfs!.output()} ${readFileSync(log, 'utf8').slice(-1500)}`);
    });
    if (this.nfs.child.exitCode !== null) throw new Error(`nfs-ganesha exited: ${this.nfs.output()} ${readFileSync(log, 'utf8').slice(-1500)}`);
  }

  private async startSshd(h: Host): Promise<void> {
    const dir = join(this.dir, `ssh-${h.name}`);
    mkdirSync(dir, { recursive: true });
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${this.clientKey}.pub`));
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        'Port 22', `ListenAddress ${h.peerAddr}`, `ListenAddress ${h.mgmtAddr}`, `HostKey ${join(dir, 'host_ed25519')}`,
        `PidFile ${join(dir, 'sshd.pid')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'StrictModes no',
        'PubkeyAuthentication yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password',
        'UsePAM no', 'AllowStreamLocalForwarding yes', 'AllowTcpForwarding local', 'X11Forwarding no', 'LogLevel ERROR', '',
      ].join('\n'),
    );
    h.sshd = startProc(['ip', 'netns', 'exec', h.ns, '/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'sshd_config')]);
    this.procs.push(h.sshd);
    await until(`sshd of host ${h.name}`, () => tcpOpen(h.mgmtAddr, 22)).catch((err: Error) => {
      throw new Error(`${err.message}: ${h.sshd!.output()}`);
    });
  }

  /** Starts (or starts again) a host's virtkitd inside its namespace. */
  async startDaemon(h: Host): Promise<void> {
    const conf = join(this.dir, `virtkitd-${h.name}.conf`);
    // Short keepalive: a host that vanished is noticed in ~4 s (the tests cut links and kill daemons).
    writeFileSync(conf, 'keepalive_interval = 1\nkeepalive_count = 3\nlog_level = "info"\n');
    const d = startProc(
      ['ip', 'netns', 'exec', h.ns, process.execPath, VIRTKITD, '--root', h.root, '--listen-unix', h.socket, '--listen-unix-ro', `${h.socket}-ro`, '--config', conf],
      { VIRTKIT_PLUGIN_PATH: PLUGIN_PATH, VIRTKIT_NO_AUTOSTART: '1', VIRTKIT_NO_DAEMON: '1' },
    );
    h.daemon = d;
    this.procs.push(d);
    await until(`virtkitd of host ${h.name}`, () => d.output().includes('virtkitd started') || d.child.exitCode !== null, 20_000);
    if (d.child.exitCode !== null) throw new Error(`virtkitd of host ${h.name} exited: ${d.output()}`);
  }

  /** A connection of the test (the client) to a host's daemon over its unix socket. */
  async open(h: Host): Promise<Connection> {
    const c = await Connection.open(h.unixUri, { loader: this.loader });
    this.connections.push(c);
    return c;
  }

  /** Defines and starts the pools both hosts have: `shared` (netfs, the NFS export) and `local` (a folder of its own). */
  async definePools(h: Host): Promise<void> {
    const c = await this.open(h);
    const netfs = `<pool type='netfs'><name>shared</name><source><host name='${h.nfsAddr}'/><dir path='${this.exportDir}'/><format type='nfs'/></source>` +
      `<target><path>${join(h.root, 'shared')}</path></target>` +
      `<virtkit:options xmlns:virtkit='http://virtkit.dev/schemas/storagepool/1.0'><virtkit:option name='client' value='userspace'/></virtkit:options></pool>`;
    const local = `<pool type='dir'><name>local</name><target><path>${join(h.root, 'local')}</path></target></pool>`;
    for (const xml of [netfs, local]) {
      const p = await c.defineStoragePoolXml(xml);
      await p.build().catch(() => {});
      await p.start();
    }
  }

  /** Runs the CLI (from the machine's namespace, as an administrator's workstation would). */
  cli(args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PATH, VIRTKIT_PLUGIN_PATH: PLUGIN_PATH, VIRTKIT_NO_DAEMON: '1' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(t);
        resolve({ code: code ?? 1, stdout, stderr });
      });
    });
  }

  /** A CLI process left running (to interrupt or race with). */
  cliProcess(args: string[]): ChildProcess {
    return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH, VIRTKIT_PLUGIN_PATH: PLUGIN_PATH, VIRTKIT_NO_DAEMON: '1' } });
  }

  /** QEMU processes of a host (their command lines name its state folder), of one guest when a name is given. */
  qemuPids(h: Host, guest?: string): number[] {
    const out: number[] = [];
    for (const line of sh(['ps', '-eo', 'pid=,args=']).split('\n')) {
      const m = /^\s*(\d+)\s+(\S*qemu-system\S*)\s(.*)$/.exec(line);
      if (m && m[3]!.includes(`${h.root}/`) && (!guest || m[3]!.includes(`guest=${guest},`))) out.push(Number(m[1]));
    }
    return out;
  }

  /** Takes the link between the hosts down (or up again). */
  setPeerLink(up: boolean): void {
    sh(['ip', '-n', this.A.ns, 'link', 'set', `${this.prefix}ab`, up ? 'up' : 'down']);
    sh(['ip', '-n', this.B.ns, 'link', 'set', `${this.prefix}ba`, up ? 'up' : 'down']);
  }

  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    // VIRTKIT_LAB_LOGS=DIR keeps the daemons' logs of the run there (debugging).
    const logs = process.env.VIRTKIT_LAB_LOGS;
    if (logs) {
      mkdirSync(logs, { recursive: true });
      for (const h of [this.A, this.B]) if (h?.daemon) writeFileSync(join(logs, `virtkitd-${h.name}.log`), h.daemon.output());
      for (const f of ['ganesha.log']) writeFileSync(join(logs, f), readFileSync(join(this.dir, f), 'utf8'));
    }
    for (const c of this.connections) await c.close().catch(() => {});
    for (const p of this.procs.reverse()) await p.stop().catch(() => {});
    await killQemusMatching(this.dir);
    await this.lab.cleanup();
    await removeByPrefix(this.prefix);
    rmSync(this.dir, { recursive: true, force: true });
    return problems;
  }
}
