/**
 * The local host-interface driver (iface-list, iface-dumpxml, iface-mac,
 * iface-name): the kernel's devices as libvirt's udev backend shows them
 * (interface_backend_udev.c), plus their addresses as <protocol> elements
 * the way netcf reports live state. Bridge ports and tap devices are not
 * listed on their own, as in libvirt.
 */
import { readFile } from 'node:fs/promises';
import type { InterfaceDriver, InterfaceKey, InterfaceSummary } from '../driver.js';
import { VirtError } from '../errors.js';
import { formatInterfaceXml } from '../models/interface/format.js';
import { INTERFACE_LINK_STATES, type InterfaceDef, type InterfaceLinkState, type InterfaceProtocol } from '../models/interface/types.js';
import { parseMac } from '../xml/values.js';
import type { HostCommandRunner } from './host-command.js';
import { listHostLinks, type HostLink } from './host-links.js';

const ORIGIN = { origin: 'interface' };

/** Devices libvirt leaves out of the list: bridge ports and tun/tap devices. */
function listed(l: HostLink): boolean {
  return l.slaveKind !== 'bridge' && l.kind !== 'tun';
}

function typeOf(l: HostLink): InterfaceDef['type'] {
  if (l.kind === 'bridge') return 'bridge';
  if (l.kind === 'bond') return 'bond';
  if (l.kind === 'vlan' || l.name.includes('.')) return 'vlan';
  return 'ethernet';
}

function linkState(l: HostLink): InterfaceLinkState | undefined {
  return (INTERFACE_LINK_STATES as readonly string[]).includes(l.operstate) ? (l.operstate as InterfaceLinkState) : undefined;
}

function protocolsOf(l: HostLink): InterfaceProtocol[] {
  const out: InterfaceProtocol[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const ips = l.addresses
      .filter((a) => a.family === family && !(family === 'ipv6' && a.scope === 'link'))
      .map((a) => ({ address: a.address, prefix: a.prefix }));
    if (ips.length) out.push({ family, ips });
  }
  return out;
}

/** Reads host state and renders libvirt's interface XML. */
export class LocalInterfaceDriver implements InterfaceDriver {
  constructor(private readonly runner: HostCommandRunner) {}

  private async links(): Promise<HostLink[]> {
    return listHostLinks(this.runner);
  }

  async listInterfaces(): Promise<InterfaceSummary[]> {
    return (await this.links()).filter(listed).map((l) => ({ name: l.name, mac: l.mac, active: l.operstate === 'up' }));
  }

  async lookupInterface(key: InterfaceKey): Promise<InterfaceSummary> {
    const links = await this.links();
    if ('name' in key) {
      const l = links.find((x) => x.name === key.name);
      if (!l) throw new VirtError('NO_INTERFACE', `couldn't find interface named '${key.name}'`, ORIGIN);
      return { name: l.name, mac: l.mac, active: l.operstate === 'up' };
    }
    let mac: string;
    try {
      mac = parseMac(key.mac);
    } catch {
      throw new VirtError('INVALID_MAC', `invalid MAC address '${key.mac}'`, ORIGIN);
    }
    const found = links.filter(listed).filter((l) => l.mac === mac);
    if (found.length === 0) throw new VirtError('NO_INTERFACE', `couldn't find interface with MAC address '${key.mac}'`, ORIGIN);
    if (found.length > 1) {
      throw new VirtError('OPERATION_FAILED', `the MAC address '${key.mac}' matches multiple interfaces (${found.map((l) => l.name).join(', ')})`, ORIGIN);
    }
    const l = found[0]!;
    return { name: l.name, mac: l.mac, active: l.operstate === 'up' };
  }

  async getInterfaceXml(name: string): Promise<string> {
    const links = await this.links();
    const l = links.find((x) => x.name === name);
    if (!l) throw new VirtError('NO_INTERFACE', `couldn't find interface named '${name}'`, ORIGIN);
    return formatInterfaceXml(await this.describe(l, links, true));
  }

  /** The InterfaceDef of one device (ports and slaves nested, as udevGetIfaceDef builds it). */
  async describe(l: HostLink, all: readonly HostLink[], top: boolean): Promise<InterfaceDef> {
    const def: InterfaceDef = { type: typeOf(l), name: l.name, protocols: top ? protocolsOf(l) : [] };
    if (top && l.mtu) def.mtu = l.mtu;
    if (l.mac) def.mac = l.mac;
    const state = linkState(l);
    const speed = state === 'up' && def.type === 'ethernet' ? await this.speedOf(l.name) : undefined;
    if (state || speed) def.link = { ...(state ? { state } : {}), ...(speed ? { speed } : {}) };
    switch (def.type) {
      case 'bridge': {
        // libvirt's udev backend skips guest taps named vnetN among the ports.
        const ports = all.filter((p) => p.master === l.name && !/^vnet[0-9]/.test(p.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        const stp = l.info.stp_state;
        const delay = l.info.forward_delay;
        def.bridge = { interfaces: [] };
        if (typeof stp === 'number') def.bridge.stp = stp !== 0;
        if (typeof delay === 'number') def.bridge.delay = String(delay);
        for (const p of ports) def.bridge.interfaces.push(await this.describe(p, all, false));
        break;
      }
      case 'bond': {
        const slaves = all.filter((p) => p.master === l.name).sort((a, b) => (a.name < b.name ? -1 : 1));
        def.bond = { interfaces: [] };
        for (const s of slaves) def.bond.interfaces.push(await this.describe(s, all, false));
        break;
      }
      case 'vlan': {
        const id = l.info.id;
        const dot = l.name.lastIndexOf('.');
        const tag = typeof id === 'number' ? String(id) : dot >= 0 ? l.name.slice(dot + 1) : '';
        const device = l.link ?? (dot >= 0 ? l.name.slice(0, dot) : '');
        if (tag && device) def.vlan = { tag, device };
        break;
      }
      default:
        break;
    }
    return def;
  }

  /** Link speed in Mbit/s from sysfs (through `ip netns exec` when in a namespace: sysfs shows the reader's namespace). */
  private async speedOf(name: string): Promise<number | undefined> {
    const path = `/sys/class/net/${name}/speed`;
    let text: string | undefined;
    if (this.runner.netns) {
      const r = await this.runner.run(['cat', path], { allowFailure: true });
      text = r.code === 0 ? r.stdout : undefined;
    } else {
      text = await readFile(path, 'utf8').catch(() => undefined);
    }
    const n = Number(text?.trim());
    return text !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
  }
}
