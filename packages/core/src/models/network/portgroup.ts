/** <portgroup>: per-group virtualport, bandwidth and vlan settings (virNetworkPortGroupParseXML / Format). */
import { keepUnknown } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { parseYesNo } from '../../xml/values.js';
import { parseNetDevBandwidth, writeNetDevBandwidth } from './bandwidth.js';
import { netError } from './errors.js';
import type { NetworkPortGroup } from './types.js';
import { parseNetDevVPortProfile, writeNetDevVPortProfile } from './virtualport.js';
import { parseNetDevVlan, writeNetDevVlan } from './vlan.js';

export function parseNetworkPortGroup(el: XmlElement, where: string): NetworkPortGroup {
  const name = el.attr('name');
  if (name === undefined) throw netError('XML_ERROR', where, 'Missing required name attribute in portgroup');
  const pgWhere = `${where}: portgroup '${name}'`;
  const pg: NetworkPortGroup = { name };
  if (el.attr('default')?.toLowerCase() === 'yes') pg.isDefault = true;
  const trust = el.attr('trustGuestRxFilters');
  if (trust !== undefined) pg.trustGuestRxFilters = parseYesNo(trust, `${pgWhere}: attribute 'trustGuestRxFilters'`);
  const vp = el.child('virtualport');
  if (vp) pg.virtualPort = parseNetDevVPortProfile(vp, pgWhere);
  const bw = el.child('bandwidth');
  if (bw) {
    const b = parseNetDevBandwidth(bw, pgWhere);
    if (b) pg.bandwidth = b;
  }
  const vlan = el.child('vlan');
  if (vlan) pg.vlan = parseNetDevVlan(vlan, pgWhere);
  const kept = keepUnknown(el, ['name', 'default', 'trustGuestRxFilters'], ['virtualport', 'bandwidth', 'vlan']);
  if (kept) pg.kept = kept;
  return pg;
}

export function writeNetworkPortGroup(w: XmlWriter, pg: NetworkPortGroup): void {
  w.open('portgroup', [
    ['name', pg.name],
    ['default', pg.isDefault ? 'yes' : undefined],
    ['trustGuestRxFilters', pg.trustGuestRxFilters === undefined ? undefined : pg.trustGuestRxFilters ? 'yes' : 'no'],
    ...(pg.kept?.attrs ?? []),
  ]);
  writeNetDevVlan(w, pg.vlan);
  writeNetDevVPortProfile(w, pg.virtualPort);
  writeNetDevBandwidth(w, pg.bandwidth);
  if (pg.kept?.children) for (const c of pg.kept.children) w.node(c);
  w.close('portgroup');
}
