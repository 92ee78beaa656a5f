/**
 * Test support for network tests against the real kernel
 * (`@virtkit/network-linux/testing`): network namespaces named with a
 * per-run prefix — one standing for the host (where virtkit's networks
 * run, via network.conf's `netns`), clients attached to a bridge by veth,
 * an "outside world" reached through the host — a DHCP client (busybox
 * udhcpc), a tiny DNS query, a TCP service that tells each client the
 * address it sees, a stub hypervisor plugin for Connection tests, and a
 * cleanup that removes everything with the prefix, also after a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, HostCommandRunner, PluginLoader } from '@virtkit/core';

/** Whether the real-kernel tests can run here (root, ip, nft, dnsmasq, busybox). */
export function canRunNetworkTests(): { ok: boolean; why?: string } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, why: 'needs root' };
  for (const tool of ['ip', 'nft', 'dnsmasq', 'busybox']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
    if (r.status !== 0) return { ok: false, why: `needs ${tool}` };
  }
  return { ok: true };
}

/** A short prefix unique to this run (namespace, bridge and device names start with it). */
export function runPrefix(tag: string): string {
  return `vk${tag}${(process.pid % 1000).toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`.slice(0, 9);
}

function sh(argv: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { input, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  return { code: r.status ?? 1, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '' };
}

function must(argv: string[]): string {
  const r = sh(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

export function listNamespaces(): string[] {
  return sh(['ip', 'netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

export class NetnsLab {
  readonly namespaces: string[] = [];
  readonly children: ChildProcess[] = [];
  root = '';

  constructor(readonly prefix: string) {}

  /** A fresh namespace `<prefix><suffix>` with lo up. */
  addNamespace(suffix: string): string {
    const name = `${this.prefix}${suffix}`;
    must(['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
    must(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** An embed root (mode 0755, so an unprivileged dnsmasq can read its hosts files) whose network.conf names `netns`. */
  async makeRoot(netns: string): Promise<string> {
    this.root = await mkdtemp(join(tmpdir(), `${this.prefix}-`));
    await chmod(this.root, 0o755);
    await mkdir(join(this.root, 'etc'), { recursive: true });
    await writeFile(join(this.root, 'etc', 'network.conf'), `netns = "${netns}"\n`);
    return this.root;
  }

  /**
   * A client namespace joined to `bridge` (in `hostNs`) by a veth pair:
   * the host end `<prefix><suffix>h` on the bridge, `eth0` in the client.
   */
  addClient(hostNs: string, bridge: string, suffix: string, mac: string): { ns: string; hostEnd: string } {
    const ns = this.addNamespace(suffix);
    const hostEnd = `${this.prefix}${suffix}h`;
    must(['ip', '-n', hostNs, 'link', 'add', 'name', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac, 'netns', ns]);
    must(['ip', '-n', hostNs, 'link', 'set', 'dev', hostEnd, 'master', bridge, 'up']);
    must(['ip', '-n', ns, 'link', 'set', 'dev', 'eth0', 'up']);
    return { ns, hostEnd };
  }

  /**
   * The outside world: a namespace linked to `hostNs` by a veth, the host
   * end `hostAddr/prefix`, the far end `outsideAddr/prefix`.
   */
  addOutside(hostNs: string, suffix: string, hostAddr: string, outsideAddr: string, prefix: number): { ns: string; hostEnd: string } {
    const ns = this.addNamespace(suffix);
    const hostEnd = `${this.prefix}${suffix}h`;
    must(['ip', '-n', hostNs, 'link', 'add', 'name', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    must(['ip', '-n', hostNs, 'addr', 'add', `${hostAddr}/${prefix}`, 'dev', hostEnd]);
    must(['ip', '-n', hostNs, 'link', 'set', 'dev', hostEnd, 'up']);
    must(['ip', '-n', ns, 'addr', 'add', `${outsideAddr}/${prefix}`, 'dev', 'eth0']);
    must(['ip', '-n', ns, 'link', 'set', 'dev', 'eth0', 'up']);
    return { ns, hostEnd };
  }

  /**
   * Runs busybox udhcpc in `ns` on `iface` until it gets a lease; returns
   * the address (not yet configured: see configureLease).
   */
  async dhcp(ns: string, iface = 'eth0', hostname?: string, timeoutS = 20): Promise<string> {
    const args = ['netns', 'exec', ns, 'busybox', 'udhcpc', '-i', iface, '-n', '-q', '-f', '-t', String(timeoutS), '-T', '1', '-s', '/bin/true'];
    if (hostname) args.push('-x', `hostname:${hostname}`);
    const r = await runAsync('ip', args, (timeoutS + 5) * 1000);
    const m = /lease of (\S+) obtained/.exec(r.stdout + r.stderr);
    if (!m) throw new Error(`udhcpc in ${ns} got no lease: ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
    return m[1]!;
  }

  /** Puts a leased address on the client and a default route via the gateway. */
  configureLease(ns: string, address: string, prefix: number, gateway?: string, iface = 'eth0'): void {
    must(['ip', '-n', ns, 'addr', 'add', `${address}/${prefix}`, 'dev', iface]);
    if (gateway) must(['ip', '-n', ns, 'route', 'add', 'default', 'via', gateway]);
  }

  /**
   * A TCP service in `ns` that answers each connection with the address
   * it came from (and the source port, `withPort`). Resolves once it listens.
   */
  async startWhoAmI(ns: string, port: number, withPort = false): Promise<void> {
    const reply = withPort ? "s.remoteAddress.replace(/^::ffff:/,'')+' '+s.remotePort" : "s.remoteAddress.replace(/^::ffff:/,'')";
    const code = `require('net').createServer(s=>{s.end(${reply}+'\\n')}).listen(${port},'0.0.0.0',()=>console.log('ready'))`;
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`whoami server in ${ns} did not start`)), 10_000);
      child.stdout!.on('data', (b: Buffer) => {
        if (b.toString().includes('ready')) {
          clearTimeout(t);
          resolve();
        }
      });
      child.on('exit', (c) => {
        clearTimeout(t);
        reject(new Error(`whoami server in ${ns} exited (${c})`));
      });
    });
  }

  /** Connects from `ns` to host:port; resolves with what the server said, rejects on failure/timeout. */
  async whoAmI(ns: string, host: string, port: number, timeoutMs = 3000): Promise<string> {
    const code =
      `const s=require('net').connect({host:${JSON.stringify(host)},port:${port},timeout:${timeoutMs}});let d='';` +
      `s.on('data',b=>d+=b);s.on('end',()=>{process.stdout.write(d);process.exit(0)});` +
      `s.on('timeout',()=>{console.error('timeout');process.exit(3)});s.on('error',e=>{console.error(e.code||e.message);process.exit(2)})`;
    const r = await runAsync('ip', ['netns', 'exec', ns, process.execPath, '-e', code], timeoutMs + 5000);
    if (r.code !== 0) throw new Error(`connect ${host}:${port} from ${ns}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout.trim();
  }

  /** A DNS A query from `ns` to `server`; resolves with the addresses (empty when the name does not exist). */
  async dnsQuery(ns: string, server: string, name: string, type: 'A' | 'TXT' | 'SRV' = 'A'): Promise<string[]> {
    const r = await runAsync('ip', ['netns', 'exec', ns, process.execPath, '-e', DNS_QUERY_SCRIPT, JSON.stringify([server, name, type])], 8000);
    if (r.code !== 0) throw new Error(`DNS query for ${name} from ${ns}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout.split('\n').filter(Boolean);
  }

  /** Starts a process in `ns` (kept for cleanup). */
  spawnIn(ns: string, argv: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  /**
   * A Connection to `vknet:///embed?root=<root>` whose root runs its
   * networks in `hostNs`, with a stub hypervisor and the given mode
   * packages as the only plugins. `pluginPath` is what the CLI needs in
   * VIRTKIT_PLUGIN_PATH to open the same URI.
   */
  async openConnection(hostNs: string, modePackageDirs: string[]): Promise<{ conn: Connection; root: string; uri: string; pluginPath: string }> {
    const root = this.root || (await this.makeRoot(hostNs));
    this.fixtures ||= await mkdtemp(join(tmpdir(), `${this.prefix}-fx-`));
    const plugin = await writeStubHypervisorPlugin(this.fixtures, 'vknet');
    const pluginPath = [plugin, ...modePackageDirs].join(':');
    const uri = `vknet:///embed?root=${root}`;
    const conn = await Connection.open(uri, { loader: new PluginLoader({ roots: [], pluginPath }) });
    return { conn, root, uri, pluginPath };
  }

  fixtures = '';

  /** Removes every namespace with the prefix (killing what runs in them), the root, and the children. */
  async cleanup(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    await removeByPrefix(this.prefix);
    if (this.root) await rm(this.root, { recursive: true, force: true });
    if (this.fixtures) await rm(this.fixtures, { recursive: true, force: true });
  }
}

/** Kills processes in and deletes every namespace named with `prefix`; deletes root-namespace devices with it too. */
export async function removeByPrefix(prefix: string): Promise<void> {
  for (const ns of listNamespaces().filter((n) => n.startsWith(prefix))) {
    for (const pid of sh(['ip', 'netns', 'pids', ns]).stdout.split('\n').map(Number).filter((p) => p > 0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    sh(['ip', 'netns', 'del', ns]);
  }
  const links = JSON.parse(sh(['ip', '-j', 'link', 'show']).stdout || '[]') as Array<{ ifname: string }>;
  for (const l of links) if (l.ifname.startsWith(prefix)) sh(['ip', 'link', 'del', 'dev', l.ifname]);
}

/** What a test run must not leave behind: namespaces, devices, nft tables in the root namespace, dnsmasq processes. */
export function leftovers(prefix: string, marker: string): string[] {
  const out: string[] = [];
  for (const ns of listNamespaces()) if (ns.startsWith(prefix)) out.push(`namespace ${ns}`);
  const links = JSON.parse(sh(['ip', '-j', 'link', 'show']).stdout || '[]') as Array<{ ifname: string }>;
  for (const l of links) if (l.ifname.startsWith(prefix)) out.push(`device ${l.ifname}`);
  for (const t of sh(['nft', 'list', 'tables']).stdout.split('\n')) if (t.includes(prefix)) out.push(t.trim());
  for (const line of sh(['ps', '-eo', 'pid,args']).stdout.split('\n')) {
    if (line.includes('dnsmasq') && line.includes(marker)) out.push(`process ${line.trim()}`);
  }
  return out;
}

/** Runs a command without a shell; never rejects (the caller reads code/stdout/stderr). */
export function runAsync(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** A host-side command runner inside a lab namespace. */
export function runnerIn(ns: string): HostCommandRunner {
  return new HostCommandRunner(ns);
}

/**
 * A minimal hypervisor plugin (a package folder) with no network driver of
 * its own, so a Connection to `<scheme>:///embed?root=DIR` gets core's
 * local network and interface drivers.
 */
export async function writeStubHypervisorPlugin(dir: string, scheme: string): Promise<string> {
  const pkg = join(dir, `virtkit-driver-${scheme}`);
  await mkdir(pkg, { recursive: true });
  await writeFile(
    join(pkg, 'package.json'),
    JSON.stringify({ name: `virtkit-driver-${scheme}`, version: '0.0.0', type: 'module', main: 'index.js', virtkit: { kind: 'hypervisor', schemes: [scheme] } }),
  );
  await writeFile(
    join(pkg, 'index.js'),
    `export default async function open(ctx) {
  return {
    name: ${JSON.stringify(scheme)},
    capabilities: new Set(['network', 'interface']),
    uri: ctx.uri.raw,
    async getHostname() { return 'stub'; },
    async getVersion() { return { hypervisor: 'Stub', version: '0.0.0' }; },
    async getCapabilities() { return '<capabilities/>'; },
    async getNodeInfo() { return { model: 'x86_64', memoryKiB: 0, cpus: 1, mhz: 0, nodes: 1, sockets: 1, cores: 1, threads: 1 }; },
    async close() {},
  };
}
`,
  );
  return pkg;
}

/**
 * One DNS query over UDP, as JavaScript source run inside a namespace with
 * `node -e` (kept as text so no bundler rewrites it). Prints A addresses,
 * TXT strings or SRV "priority weight port target", one per line.
 */
const DNS_QUERY_SCRIPT = String.raw`
const [server, name, type] = JSON.parse(process.argv[1]);
const dgram = require('node:dgram');
const qtype = { A: 1, TXT: 16, SRV: 33 }[type];
const labels = name.split('.').filter(Boolean);
const q = Buffer.alloc(12 + labels.reduce((n, l) => n + l.length + 1, 0) + 5);
q.writeUInt16BE(0x1234, 0); q.writeUInt16BE(0x0100, 2); q.writeUInt16BE(1, 4);
let o = 12;
for (const l of labels) { q[o++] = l.length; o += q.write(l, o, 'ascii'); }
q[o++] = 0; q.writeUInt16BE(qtype, o); q.writeUInt16BE(1, o + 2);
const s = dgram.createSocket('udp4');
const timer = setTimeout(() => { console.error('timeout'); process.exit(3); }, 5000);
const skipName = (b, p) => { for (;;) { const len = b[p]; if (len === 0) return p + 1; if ((len & 0xc0) === 0xc0) return p + 2; p += len + 1; } };
const readName = (b, p) => { const parts = []; for (let g = 0; g < 64; g++) { const len = b[p]; if (len === 0) break; if ((len & 0xc0) === 0xc0) { p = ((len & 0x3f) << 8) | b[p + 1]; continue; } parts.push(b.toString('ascii', p + 1, p + 1 + len)); p += len + 1; } return parts.join('.'); };
s.on('message', (b) => {
  clearTimeout(timer);
  const an = b.readUInt16BE(6);
  let p = skipName(b, 12) + 4;
  for (let i = 0; i < an; i++) {
    p = skipName(b, p);
    const t = b.readUInt16BE(p); const rdlen = b.readUInt16BE(p + 8); const rd = p + 10;
    if (t === 1 && rdlen === 4) console.log(b[rd] + '.' + b[rd + 1] + '.' + b[rd + 2] + '.' + b[rd + 3]);
    else if (t === 16) console.log(b.toString('utf8', rd + 1, rd + 1 + b[rd]));
    else if (t === 33) console.log(b.readUInt16BE(rd) + ' ' + b.readUInt16BE(rd + 2) + ' ' + b.readUInt16BE(rd + 4) + ' ' + readName(b, rd + 6));
    p = rd + rdlen;
  }
  s.close(); process.exit(0);
});
s.send(q, 53, server);
`;
