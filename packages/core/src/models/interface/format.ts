/** formatInterfaceXml: libvirt's virInterfaceDefFormat (interface_conf.c). */
import { XmlWriter } from '../../xml/write.js';
import type { InterfaceDef, InterfaceProtocol } from './types.js';

function writeProtocols(w: XmlWriter, protos: readonly InterfaceProtocol[]): void {
  for (const p of protos) {
    w.open('protocol', [['family', p.family]]);
    if (p.autoconf) w.empty('autoconf');
    if (p.dhcp) w.empty('dhcp', [['peerdns', p.dhcp.peerdns === undefined ? undefined : p.dhcp.peerdns ? 'yes' : 'no']]);
    for (const ip of p.ips) w.empty('ip', [['address', ip.address], ['prefix', ip.prefix ? ip.prefix : undefined]]);
    if (p.gateway !== undefined) w.empty('route', [['gateway', p.gateway]]);
    w.close('protocol');
  }
}

function writeIface(w: XmlWriter, def: InterfaceDef, top: boolean): void {
  w.open('interface', [['type', def.type], ['name', def.name], ...(def.kept?.attrs ?? [])]);
  if (top) {
    if (def.startMode) w.empty('start', [['mode', def.startMode]]);
    if (def.mtu) w.empty('mtu', [['size', def.mtu]]);
    writeProtocols(w, def.protocols);
  }
  if (def.type !== 'bridge' && def.link && (def.link.speed || def.link.state)) {
    w.empty('link', [['speed', def.link.speed || undefined], ['state', def.link.state]]);
  }
  switch (def.type) {
    case 'ethernet':
      if (def.mac !== undefined) w.empty('mac', [['address', def.mac]]);
      break;
    case 'bridge': {
      const br = def.bridge ?? { interfaces: [] };
      w.open('bridge', [['stp', br.stp === undefined ? undefined : br.stp ? 'on' : 'off'], ['delay', br.delay]]);
      for (const i of br.interfaces) writeIface(w, i, false);
      w.close('bridge');
      break;
    }
    case 'bond': {
      const b = def.bond ?? { interfaces: [] };
      w.open('bond', [['mode', b.mode]]);
      if (b.miimon) {
        const m = b.miimon;
        w.empty('miimon', [
          ['freq', m.freq],
          ['downdelay', m.downdelay && m.downdelay > 0 ? m.downdelay : undefined],
          ['updelay', m.updelay && m.updelay > 0 ? m.updelay : undefined],
          ['carrier', m.carrier],
        ]);
      } else if (b.arpmon) {
        w.empty('arpmon', [['interval', b.arpmon.interval], ['target', b.arpmon.target], ['validate', b.arpmon.validate]]);
      }
      for (const i of b.interfaces) writeIface(w, i, false);
      w.close('bond');
      break;
    }
    case 'vlan':
      if (def.vlan) {
        w.open('vlan', [['tag', def.vlan.tag]]);
        w.empty('interface', [['name', def.vlan.device]]);
        w.close('vlan');
      }
      break;
  }
  if (def.kept?.children) for (const c of def.kept.children) w.node(c);
  w.close('interface');
}

/** Formats an InterfaceDef as libvirt prints it (virsh iface-dumpxml --inactive). */
export function formatInterfaceXml(def: InterfaceDef, opts: { indent?: number } = {}): string {
  const w = new XmlWriter(opts.indent ?? 0);
  writeIface(w, def, true);
  return w.toString();
}
