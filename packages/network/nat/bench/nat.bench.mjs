// Starting and stopping a NAT network (bridge, nftables/iptables rules,
// dnsmasq with DHCP), side by side:
//   virtkit  — the API in-process, and the CLI (net-create + net-destroy)
//   limit    — the same ip/nft/dnsmasq commands run directly
//   libvirt  — libvirt 9.0's network driver alone in a libvirtd (Debian 12's
//              libvirt-daemon; LIBVIRT_DRIVER_DIR holds only the network
//              driver), virsh net-create + net-destroy
// Everything runs in network namespaces made here (the host's own
// networking is not touched); every daemon started here is stopped and
// every namespace removed at the end, also on failure. Needs root.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { have, measure, median, report } from '../../../../bench/lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../../../..');
const natDir = join(here, '..');
const cli = join(repo, 'apps/cli/dist/bin.js');
const N = Number(process.env.VK_BENCH_N ?? 10);

if (process.getuid?.() !== 0) {
  console.log('nat.bench: needs root (network namespaces, bridges, nftables); skipped');
  process.exit(0);
}

const { Connection, PluginLoader } = await import(join(repo, 'packages/core/dist/index.js'));
const { NetnsLab, removeByPrefix } = await import(join(repo, 'packages/network/linux/dist/testing/index.js'));
const { buildNetworkFirewall, firewallTableFor, buildDnsmasqConfig, dnsmasqCapsFromVersion } = await import(join(repo, 'packages/network/linux/dist/index.js'));
const { parseNetworkXml } = await import(join(repo, 'packages/core/dist/index.js'));

const PREFIX = `vkbn${process.pid.toString(36).slice(-3)}`;
const sh = (argv, opts = {}) => {
  const env = { ...(opts.env ?? process.env), PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
  const r = spawnSync(argv[0], argv.slice(1), { ...opts, env });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${argv.join(' ')}: ${r.stderr?.toString().trim()}`);
  return r;
};

const netXml = (name, bridge, subnet) => `<network>
  <name>${name}</name>
  <forward mode='nat'/>
  <bridge name='${bridge}' stp='off' delay='0'/>
  <mac address='52:54:00:4b:00:01'/>
  <ip address='${subnet}.1' netmask='255.255.255.0'>
    <dhcp><range start='${subnet}.2' end='${subnet}.254'/></dhcp>
  </ip>
</network>
`;

const lab = new NetnsLab(PREFIX);
let libvirtDaemon; // { pid, ns, sockDir, policyRc }
const results = {};

async function benchVirtkit() {
  const ns = lab.addNamespace('v');
  const { conn, uri, pluginPath, root } = await lab.openConnection(ns, [natDir]);
  const xml = netXml(`${PREFIX}-vk`, `${PREFIX}v0`, '10.199.0');
  results.api = median(
    await measure(async () => {
      const n = await conn.createNetworkXml(xml);
      await n.destroy();
    }, N),
  );
  await conn.close();
  if (existsSync(cli)) {
    const file = join(root, 'net.xml');
    writeFileSync(file, xml);
    const env = { ...process.env, VIRTKIT_PLUGIN_PATH: pluginPath };
    const run = (args) => {
      const r = spawnSync(process.execPath, [cli, '-c', uri, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(`virtkit ${args.join(' ')}: ${r.stderr.toString().trim()}`);
    };
    results.cli = median(
      await measure(() => {
        run(['net-create', file]);
        run(['net-destroy', `${PREFIX}-vk`]);
      }, N),
    );
  }
}

/** The same host changes made with the tools directly: the floor virtkit cannot go below. */
async function benchLimit() {
  const ns = lab.addNamespace('l');
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}-lim-`));
  const def = parseNetworkXml(netXml(`${PREFIX}-lim`, `${PREFIX}l0`, '10.198.0'));
  const br = def.bridge.name;
  const table = firewallTableFor(br);
  const nft = buildNetworkFirewall(def, table);
  const pidFile = join(dir, 'd.pid');
  const files = buildDnsmasqConfig(def, { caps: dnsmasqCapsFromVersion('2.90'), stateDir: dir, pidFile });
  writeFileSync(join(dir, 'd.conf'), files.conf);
  writeFileSync(files.hostsfilePath, files.hostsfile);
  writeFileSync(files.addnhostsPath, files.addnhosts);
  spawnSync('chmod', ['755', dir]);
  try {
    results.limit = median(
      await measure(() => {
        sh(['ip', '-n', ns, 'link', 'add', 'name', br, 'address', def.mac, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
        sh(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], { input: nft });
        sh(['ip', '-n', ns, 'addr', 'add', '10.198.0.1/24', 'dev', br]);
        sh(['ip', '-n', ns, 'link', 'set', 'dev', br, 'up']);
        sh(['ip', 'netns', 'exec', ns, 'dnsmasq', `--conf-file=${join(dir, 'd.conf')}`, `--dhcp-leasefile=${join(dir, 'd.leases')}`]);
        const pid = Number(readFileSync(pidFile, 'utf8'));
        process.kill(pid, 'SIGTERM');
        while (existsSync(`/proc/${pid}/stat`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) spawnSync('sleep', ['0.002']);
        sh(['ip', 'netns', 'exec', ns, 'nft', 'delete', 'table', table.family, table.name]);
        sh(['ip', '-n', ns, 'link', 'del', 'dev', br]);
      }, N),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Installs libvirt's daemon without letting the package start any service on the host. */
function ensureLibvirt() {
  // Debian 12 has the network driver in libvirt-daemon; libvirt-daemon-system would add services and a default network.
  const missing = ['libvirt-daemon', 'libvirt-clients', 'iptables'].filter(
    (p) => !spawnSync('dpkg-query', ['-W', '-f=${Status}', p]).stdout?.toString().includes('ok installed'),
  );
  if (!missing.length) return true;
  console.log(`(installing ${missing.join(' ')} for the libvirt side)`);
  const policy = '/usr/sbin/policy-rc.d';
  const madePolicy = !existsSync(policy);
  if (madePolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const r = spawnSync('sh', ['-c', `DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing.join(' ')} >/dev/null 2>&1`]);
    return r.status === 0;
  } finally {
    if (madePolicy) rmSync(policy, { force: true });
  }
}

async function benchLibvirt() {
  if (!ensureLibvirt()) return;
  const daemon = '/usr/sbin/libvirtd';
  const driverSo = ['/usr/lib/x86_64-linux-gnu/libvirt/connection-driver', '/usr/lib64/libvirt/connection-driver', '/usr/lib/libvirt/connection-driver']
    .map((d) => join(d, 'libvirt_driver_network.so'))
    .find((f) => existsSync(f));
  if (!existsSync(daemon) || !driverSo || !have('virsh')) return;
  if (spawnSync('pgrep', ['-x', 'libvirtd']).status === 0) {
    console.log('(a libvirtd is already running on this host; libvirt side skipped)');
    return;
  }
  const ns = lab.addNamespace('lv');
  const sockDir = mkdtempSync(join(tmpdir(), `${PREFIX}-lvsock-`));
  // Only the network driver is loaded (no QEMU driver, no default network), sockets in our folder.
  const drivers = join(sockDir, 'drivers');
  mkdirSync(drivers);
  symlinkSync(driverSo, join(drivers, 'libvirt_driver_network.so'));
  const conf = join(sockDir, 'daemon.conf');
  writeFileSync(conf, `unix_sock_dir = "${sockDir}"\nlog_outputs = "3:file:${join(sockDir, 'daemon.log')}"\n`);
  const pidFile = join(sockDir, 'daemon.pid');
  libvirtDaemon = { pidFile, ns, sockDir };
  sh(['ip', 'netns', 'exec', ns, daemon, '--daemon', '--config', conf, '--pid-file', pidFile], { env: { ...process.env, LIBVIRT_DRIVER_DIR: drivers } });
  const sock = join(sockDir, 'libvirt-sock');
  for (let i = 0; i < 100 && !existsSync(sock); i++) spawnSync('sleep', ['0.1']);
  const uri = `network:///system?socket=${sock}`;
  const file = join(sockDir, 'net.xml');
  const name = `${PREFIX}-lv`;
  writeFileSync(file, netXml(name, `${PREFIX}b0`, '10.197.0'));
  const virsh = (args) => sh(['virsh', '-q', '-c', uri, ...args]);
  results.libvirt = median(
    await measure(() => {
      virsh(['net-create', file]);
      virsh(['net-destroy', name]);
    }, N),
  );
}

function stopLibvirt() {
  if (!libvirtDaemon) return;
  const pid = Number(readFileSync(libvirtDaemon.pidFile, 'utf8').trim());
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) spawnSync('sleep', ['0.1']);
  rmSync(libvirtDaemon.sockDir, { recursive: true, force: true });
}

try {
  await benchVirtkit();
  await benchLimit();
  await benchLibvirt();
} finally {
  stopLibvirt();
  await lab.cleanup();
  await removeByPrefix(PREFIX);
}
report('NAT network start+stop (API)', results.api, results.limit, results.libvirt);
if (results.cli !== undefined) report('NAT network start+stop (CLI)', results.cli, results.limit, results.libvirt);
