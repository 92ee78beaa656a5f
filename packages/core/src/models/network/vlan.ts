/** <vlan> (libvirt's netdev_vlan_conf.c): one tag, or a trunk of tags with an optional native one. */
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { netError } from './errors.js';
import { parseCUnsigned } from './numbers.js';

export type NetDevVlanNativeMode = 'tagged' | 'untagged';

export interface NetDevVlan {
  tags: number[];
  trunk: boolean;
  nativeMode?: NetDevVlanNativeMode;
  nativeTag?: number;
}

export function parseNetDevVlan(el: XmlElement, where: string): NetDevVlan {
  const tagEls = el.elements('tag');
  if (tagEls.length === 0) {
    throw netError('XML_ERROR', where, "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement");
  }
  const vlan: NetDevVlan = { tags: [], trunk: tagEls.length > 1 };
  for (const t of tagEls) {
    const idText = t.attr('id');
    const id = idText === undefined ? undefined : parseCUnsigned(idText);
    if (id === undefined) throw netError('XML_ERROR', where, 'missing or invalid vlan tag id attribute');
    if (id > 4095n) throw netError('XML_ERROR', where, `vlan tag id ${id} too large (maximum 4095)`);
    const mode = t.attr('nativeMode');
    if (mode !== undefined) {
      if (vlan.nativeMode) throw netError('XML_ERROR', where, 'duplicate native vlan setting');
      if (mode !== 'tagged' && mode !== 'untagged') {
        throw netError('CONFIG_UNSUPPORTED', where, `invalid "nativeMode='${mode}'" in vlan <tag> element`);
      }
      vlan.nativeMode = mode;
      vlan.nativeTag = Number(id);
    }
    vlan.tags.push(Number(id));
  }
  const trunk = el.attr('trunk');
  if (trunk !== undefined) {
    vlan.trunk = trunk.toLowerCase() === 'yes';
    if (!vlan.trunk) {
      if (tagEls.length > 1) {
        throw netError('XML_ERROR', where, `invalid "trunk='${trunk}'" in <vlan> - trunk='yes' is required for more than one vlan tag`);
      }
      if (vlan.nativeMode) {
        throw netError('XML_ERROR', where, `invalid configuration in <vlan> - "trunk='no'" is not allowed with a native vlan id`);
      }
      if (trunk.toLowerCase() !== 'no') throw netError('XML_ERROR', where, `invalid "trunk='${trunk}'" in <vlan> - must be yes or no`);
    }
  }
  return vlan;
}

export function writeNetDevVlan(w: XmlWriter, vlan: NetDevVlan | undefined): void {
  if (!vlan || vlan.tags.length === 0) return;
  w.open('vlan', [['trunk', vlan.trunk ? 'yes' : undefined]]);
  for (const id of vlan.tags) {
    const native = vlan.nativeMode && vlan.nativeTag === id ? vlan.nativeMode : undefined;
    w.empty('tag', [
      ['id', id],
      ['nativeMode', native],
    ]);
  }
  w.close('vlan');
}
