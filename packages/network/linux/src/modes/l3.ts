/**
 * The networks libvirt itself sets up at layer 3 — NAT, routed, open and
 * isolated (no <forward>) — as one NetworkMode parametrised by the
 * forward mode (libvirt's networkStartNetworkVirtual): a bridge with its
 * MAC, MTU, STP and addresses, the mode's nftables table, IP forwarding,
 * and a dnsmasq for DHCP/DNS/RA. Each host change is recorded as an undo
 * step before the next one is made; core undoes them in reverse.
 *
 * Files: dnsmasq's configuration and hosts files in
 * `<runtime>/network/dnsmasq/`, its pid file `<runtime>/network/NAME.pid`,
 * its leases `<data>/network/dnsmasq/NAME.leases` (kept across restarts).
 */
import { mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  VirtError,
  ipEffectivePrefix,
  networkForwardMode,
  networkIpPrefix,
  tryParseIpAddress,
  type DhcpLease,
  type NetworkDef,
  type NetworkHealth,
  type NetworkLiveChange,
  type NetworkMode,
  type NetworkModeContext,
  type NetworkUndoStep,
} from '@virtkit/core';
import { addDeviceAddress, addDeviceRoute, createBridge, deleteDevice, deviceExists, enableIpForwarding, setBridgeIpv6, setDeviceUp } from '../bridge/links.js';
import { probeDnsmasqCaps, type DnsmasqCaps } from '../dnsmasq/caps.js';
import { buildDnsmasqConfig, dnsmasqFilePaths, networkNeedsDnsmasq } from '../dnsmasq/config.js';
import { readNetworkLeases } from '../dnsmasq/leases.js';
import { dnsmasqRunning, reloadDnsmasq, startDnsmasq, stopDnsmasq } from '../dnsmasq/process.js';
import { applyFirewallScript, deleteFirewallTable, firewallTableExists } from '../nftables/apply.js';
import { buildNetworkFirewall, firewallTableFor, modeHasFirewall, type FirewallTable } from '../nftables/rules.js';

export type L3ForwardMode = 'nat' | 'route' | 'open' | 'none';

const ORIGIN = { origin: 'network.linux' };

/** Where a network's dnsmasq files are. */
export function dnsmasqPaths(ctx: Pick<NetworkModeContext, 'runtimeDir' | 'dataDir' | 'def'>): {
  dir: string;
  conf: string;
  hostsfile: string;
  addnhosts: string;
  pidFile: string;
  leaseFile: string;
} {
  const dir = join(ctx.runtimeDir, 'dnsmasq');
  const p = dnsmasqFilePaths(dir, ctx.def.name);
  return {
    dir,
    conf: p.conf,
    hostsfile: p.hostsfile,
    addnhosts: p.addnhosts,
    pidFile: join(ctx.runtimeDir, `${ctx.def.name}.pid`),
    leaseFile: join(ctx.dataDir, 'dnsmasq', `${ctx.def.name}.leases`),
  };
}

const capsCache = new Map<string, Promise<DnsmasqCaps>>();
function dnsmasqCaps(binary: string): Promise<DnsmasqCaps> {
  let p = capsCache.get(binary);
  if (!p) {
    p = probeDnsmasqCaps(binary);
    p.catch(() => capsCache.delete(binary));
    capsCache.set(binary, p);
  }
  return p;
}

/**
 * dnsmasq drops to an unprivileged user after start and re-reads its hosts
 * files as that user: when a folder on the way is closed to others (a
 * private embed root), it has to stay root to read them.
 */
async function othersCanReach(dir: string): Promise<boolean> {
  for (let d = dir; ; d = dirname(d)) {
    const st = await stat(d).catch(() => undefined);
    if (!st || (st.mode & 0o001) === 0) return false;
    if (dirname(d) === d) return true;
  }
}

function bridgeOf(def: NetworkDef): string {
  const br = def.bridge?.name;
  if (!br) throw new VirtError('INTERNAL_ERROR', `network '${def.name}' has no bridge name defined`, ORIGIN);
  return br;
}

const familyOf = (address: string) => tryParseIpAddress(address)?.family;
const hasDhcp4 = (def: NetworkDef) => def.ips.some((ip) => familyOf(ip.address) === 'ipv4' && (ip.ranges.length > 0 || ip.hosts.length > 0));

/** Writes dnsmasq's configuration and hosts files. */
async function writeDnsmasqFiles(ctx: NetworkModeContext, only?: 'hosts'): Promise<void> {
  const p = dnsmasqPaths(ctx);
  const binary = ctx.settings.dnsmasqBinary ?? 'dnsmasq';
  const files = buildDnsmasqConfig(ctx.def, { caps: await dnsmasqCaps(binary), stateDir: p.dir, pidFile: p.pidFile });
  await mkdir(p.dir, { recursive: true, mode: 0o755 });
  await mkdir(dirname(p.leaseFile), { recursive: true, mode: 0o755 });
  // Hosts files are re-read by the unprivileged dnsmasq; the configuration only at start, as root.
  await writeFile(p.hostsfile, files.hostsfile, { mode: 0o644 });
  await writeFile(p.addnhosts, files.addnhosts, { mode: 0o644 });
  if (only !== 'hosts') await writeFile(p.conf, files.conf, { mode: 0o600 });
}

async function launchDnsmasq(ctx: NetworkModeContext): Promise<void> {
  const p = dnsmasqPaths(ctx);
  if (!ctx.steps.some((s) => s.kind === 'dnsmasq-files')) {
    await ctx.record({ kind: 'dnsmasq-files', paths: [p.conf, p.hostsfile, p.addnhosts] });
  }
  await writeDnsmasqFiles(ctx);
  if (!ctx.steps.some((s) => s.kind === 'dnsmasq')) await ctx.record({ kind: 'dnsmasq', conf: p.conf, pidFile: p.pidFile });
  const pid = await startDnsmasq(ctx.runner, {
    binary: ctx.settings.dnsmasqBinary ?? 'dnsmasq',
    confFile: p.conf,
    pidFile: p.pidFile,
    leaseFile: p.leaseFile,
    ...((await othersCanReach(p.dir)) ? {} : { user: 'root' }),
    what: `network '${ctx.def.name}'`,
  });
  ctx.data.dnsmasqPid = pid;
  await ctx.saveData();
}

async function restartDnsmasq(ctx: NetworkModeContext): Promise<void> {
  const p = dnsmasqPaths(ctx);
  await stopDnsmasq(p.conf, ctx.data.dnsmasqPid as number | undefined, p.pidFile);
  delete ctx.data.dnsmasqPid;
  if (networkNeedsDnsmasq(ctx.def)) await launchDnsmasq(ctx);
  else await ctx.saveData();
}

/** New hosts files and a SIGHUP (or a start, when dnsmasq is not running). */
async function refreshDnsmasq(ctx: NetworkModeContext): Promise<void> {
  const p = dnsmasqPaths(ctx);
  if (!(await dnsmasqRunning(p.conf, ctx.data.dnsmasqPid as number | undefined, p.pidFile))) {
    await restartDnsmasq(ctx);
    return;
  }
  await writeDnsmasqFiles(ctx, 'hosts');
  await reloadDnsmasq(p.conf, ctx.data.dnsmasqPid as number | undefined, p.pidFile);
}

function tableOf(ctx: NetworkModeContext): FirewallTable | undefined {
  const s = ctx.steps.find((x) => x.kind === 'nft-table');
  return s ? { family: 'inet', name: String(s.name) } : undefined;
}

async function reloadFirewall(ctx: NetworkModeContext): Promise<void> {
  const table = tableOf(ctx);
  if (table) await applyFirewallScript(ctx.runner, buildNetworkFirewall(ctx.def, table), `network '${ctx.def.name}'`);
}

/** The NetworkMode of a libvirt-managed L3 network with this forward mode. */
export function createL3NetworkMode(forwardMode: L3ForwardMode): NetworkMode {
  return {
    modes: [forwardMode],

    validate(def: NetworkDef): void {
      const m = networkForwardMode(def);
      if (m !== forwardMode) {
        throw new VirtError('INTERNAL_ERROR', `network '${def.name}': forward mode '${m}' given to the '${forwardMode}' mode`, ORIGIN);
      }
    },

    async start(ctx: NetworkModeContext): Promise<void> {
      const def = ctx.def;
      const what = `network '${def.name}'`;
      const br = bridgeOf(def);
      const runner = ctx.runner;
      await createBridge(runner, {
        name: br,
        ...(def.mac ? { mac: def.mac } : {}),
        ...(def.mtu ? { mtu: def.mtu } : {}),
        stp: def.bridge?.stp !== false,
        delaySeconds: def.bridge?.delay ?? 0,
        vlanFiltering: def.bridge?.macTableManager === 'libvirt',
        what,
      });
      await ctx.record({ kind: 'bridge', name: br });

      const v4 = def.ips.some((ip) => familyOf(ip.address) === 'ipv4');
      const v6 = def.ips.some((ip) => familyOf(ip.address) === 'ipv6');
      await setBridgeIpv6(runner, br, v6, what);

      if (modeHasFirewall(forwardMode)) {
        const table = firewallTableFor(br);
        // Our own table name: recording first is safe, and a crash between the two leaves nothing unrecorded.
        await ctx.record({ kind: 'nft-table', family: table.family, name: table.name });
        await applyFirewallScript(runner, buildNetworkFirewall(def, table), what);
      }

      for (const ip of def.ips) {
        const prefix = networkIpPrefix(ip);
        if (prefix < 0) throw new VirtError('INTERNAL_ERROR', `${what}: bridge '${br}' has an invalid netmask or IP address`, ORIGIN);
        await addDeviceAddress(runner, br, ip.address, prefix, what);
      }
      await setDeviceUp(runner, br, true, what);

      for (const r of def.routes) {
        const addr = tryParseIpAddress(r.address);
        const nm = r.netmask !== undefined ? tryParseIpAddress(r.netmask) : undefined;
        const prefix = ipEffectivePrefix(addr, nm, r.prefix);
        // As libvirt: a route that cannot be added does not stop the network.
        if (addr && prefix >= 0) await addDeviceRoute(runner, br, { address: r.address, prefix, gateway: r.gateway, ...(r.metric ? { metric: r.metric } : {}) }, what).catch(() => {});
      }

      if (forwardMode !== 'none') await enableIpForwarding(runner, v4, v6, what);

      if (networkNeedsDnsmasq(def)) await launchDnsmasq(ctx);
    },

    async undo(step: NetworkUndoStep, ctx: NetworkModeContext): Promise<void> {
      const what = `network '${ctx.def.name}'`;
      switch (step.kind) {
        case 'bridge':
          await deleteDevice(ctx.runner, String(step.name), what);
          return;
        case 'nft-table':
          await deleteFirewallTable(ctx.runner, { family: 'inet', name: String(step.name) }, what);
          return;
        case 'dnsmasq':
          await stopDnsmasq(String(step.conf), ctx.data.dnsmasqPid as number | undefined, String(step.pidFile));
          return;
        case 'dnsmasq-files':
          for (const f of (step.paths as string[] | undefined) ?? []) {
            await unlink(f).catch((e: NodeJS.ErrnoException) => {
              if (e.code !== 'ENOENT') throw e;
            });
          }
          return;
        default:
          throw new VirtError('INTERNAL_ERROR', `${what}: unknown undo step '${step.kind}'`, ORIGIN);
      }
    },

    async update(ctx: NetworkModeContext, change: NetworkLiveChange): Promise<void> {
      switch (change.section) {
        case 'ip-dhcp-host':
          // Starting or stopping DHCP service needs a restart; new hosts only a SIGHUP.
          if (hasDhcp4(change.previous) !== hasDhcp4(ctx.def)) await restartDnsmasq(ctx);
          else await refreshDnsmasq(ctx);
          return;
        case 'dns-host':
          await refreshDnsmasq(ctx);
          return;
        case 'ip-dhcp-range':
        case 'dns-txt':
        case 'dns-srv':
        case 'bridge':
        case 'domain':
        case 'ip':
          // These live in the configuration file, which dnsmasq reads only at start.
          await restartDnsmasq(ctx);
          return;
        case 'forward-interface':
        case 'forward':
          await reloadFirewall(ctx);
          return;
        default:
          return;
      }
    },

    async health(ctx: NetworkModeContext): Promise<NetworkHealth> {
      const present = await deviceExists(ctx.runner, bridgeOf(ctx.def));
      const problems: string[] = [];
      if (!present) return { present, problems };
      const p = dnsmasqPaths(ctx);
      if (ctx.steps.some((s) => s.kind === 'dnsmasq') && !(await dnsmasqRunning(p.conf, ctx.data.dnsmasqPid as number | undefined, p.pidFile))) {
        problems.push('dnsmasq');
      }
      const table = tableOf(ctx);
      if (table && !(await firewallTableExists(ctx.runner, table))) problems.push('firewall');
      return { present, problems };
    },

    async repair(ctx: NetworkModeContext, problems: readonly string[]): Promise<void> {
      if (problems.includes('firewall')) await reloadFirewall(ctx);
      if (problems.includes('dnsmasq')) await restartDnsmasq(ctx);
    },

    async dhcpLeases(ctx: NetworkModeContext): Promise<DhcpLease[]> {
      return readNetworkLeases(ctx.def, dnsmasqPaths(ctx).leaseFile);
    },
  };
}
