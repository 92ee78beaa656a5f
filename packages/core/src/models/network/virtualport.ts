/** <virtualport> (libvirt's netdev_vport_profile_conf.c): 802.1Qbg/Qbh, Open vSwitch, MidoNet port profiles. */
import { parseUuid } from '../../xml/values.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { netError } from './errors.js';
import { parseCUnsigned } from './numbers.js';

export const NETDEV_VPORT_TYPES = ['802.1Qbg', '802.1Qbh', 'openvswitch', 'midonet'] as const;
export type NetDevVPortType = (typeof NETDEV_VPORT_TYPES)[number];

export interface NetDevVPortProfile {
  /** Absent: a partial profile (portgroups, domain interfaces) merged with the network's. */
  type?: NetDevVPortType;
  managerId?: number;
  typeId?: number;
  typeIdVersion?: number;
  instanceId?: string;
  profileId?: string;
  interfaceId?: string;
}

export interface VPortParseOptions {
  /** VIR_VPORT_XML_REQUIRE_TYPE: the type attribute is mandatory (network level). */
  requireType?: boolean;
}

// Which parameters each type may carry (virNetDevVPortProfileCheckNoExtras); in check order.
const FORBIDDEN: Record<NetDevVPortType, Array<keyof NetDevVPortProfile>> = {
  '802.1Qbg': ['profileId', 'interfaceId'],
  '802.1Qbh': ['managerId', 'typeId', 'typeIdVersion', 'instanceId', 'interfaceId'],
  openvswitch: ['managerId', 'typeId', 'typeIdVersion', 'instanceId'],
  midonet: ['managerId', 'typeId', 'typeIdVersion', 'instanceId', 'profileId'],
};

const ATTR_OF: Record<string, string> = {
  managerId: 'managerid',
  typeId: 'typeid',
  typeIdVersion: 'typeidversion',
  instanceId: 'instanceid',
  profileId: 'profileid',
  interfaceId: 'interfaceid',
};

function parseIdNumber(text: string, attr: string, max: number, where: string): number {
  const v = parseCUnsigned(text, 0);
  if (v === undefined || v > 0xffffffffn) throw netError('XML_ERROR', where, `cannot parse value of ${attr} parameter '${text}'`);
  if (v > BigInt(max)) throw netError('XML_ERROR', where, `value of ${attr} out of range`);
  return Number(v);
}

export function parseNetDevVPortProfile(el: XmlElement, where: string, opts: VPortParseOptions = {}): NetDevVPortProfile {
  const vp: NetDevVPortProfile = {};
  const type = el.attr('type');
  if (type !== undefined) {
    if (!(NETDEV_VPORT_TYPES as readonly string[]).includes(type)) {
      throw netError('CONFIG_UNSUPPORTED', where, `unknown virtualport type ${type}`);
    }
    vp.type = type as NetDevVPortType;
  }
  if (!vp.type && opts.requireType) throw netError('XML_ERROR', where, 'missing required virtualport type');
  const p = el.child('parameters');
  if (p) {
    const managerId = p.attr('managerid');
    if (managerId !== undefined) vp.managerId = parseIdNumber(managerId, 'managerid', 0xff, where);
    const typeId = p.attr('typeid');
    if (typeId !== undefined) vp.typeId = parseIdNumber(typeId, 'typeid', 0xffffff, where);
    const typeIdVersion = p.attr('typeidversion');
    if (typeIdVersion !== undefined) vp.typeIdVersion = parseIdNumber(typeIdVersion, 'typeidversion', 0xff, where);
    const instanceId = p.attr('instanceid');
    if (instanceId !== undefined) {
      try {
        vp.instanceId = parseUuid(instanceId);
      } catch {
        throw netError('XML_ERROR', where, `cannot parse instanceid parameter '${instanceId}' as a uuid`);
      }
    }
    const profileId = p.attr('profileid');
    if (profileId !== undefined && profileId !== '') {
      if (profileId.length >= 40) throw netError('XML_ERROR', where, 'profileid parameter too long');
      vp.profileId = profileId;
    }
    const interfaceId = p.attr('interfaceid');
    if (interfaceId !== undefined) {
      try {
        vp.interfaceId = parseUuid(interfaceId);
      } catch {
        throw netError('XML_ERROR', where, `cannot parse interfaceid parameter '${interfaceId}' as a uuid`);
      }
    }
  }
  if (vp.type) {
    for (const k of FORBIDDEN[vp.type]) {
      if (vp[k] !== undefined) {
        throw netError('CONFIG_UNSUPPORTED', where, `extra ${ATTR_OF[k]} attribute specified for <virtualport type='${vp.type}'>`);
      }
    }
  }
  return vp;
}

export function writeNetDevVPortProfile(w: XmlWriter, vp: NetDevVPortProfile | undefined): void {
  if (!vp) return;
  const t = vp.type;
  const noParameters =
    vp.managerId === undefined &&
    vp.typeId === undefined &&
    vp.typeIdVersion === undefined &&
    vp.instanceId === undefined &&
    !vp.profileId &&
    vp.interfaceId === undefined;
  if (noParameters) {
    if (t) w.empty('virtualport', [['type', t]]);
    return;
  }
  const qbg = t === '802.1Qbg' || t === undefined;
  const withInterfaceId = t === 'midonet' || t === 'openvswitch' || t === undefined;
  const withProfileId = t === 'openvswitch' || t === '802.1Qbh' || t === undefined;
  w.open('virtualport', [['type', t]]);
  w.empty('parameters', [
    ['managerid', qbg ? vp.managerId : undefined],
    ['typeid', qbg ? vp.typeId : undefined],
    ['typeidversion', qbg ? vp.typeIdVersion : undefined],
    ['instanceid', qbg ? vp.instanceId : undefined],
    ['interfaceid', withInterfaceId ? vp.interfaceId : undefined],
    ['profileid', withProfileId && vp.profileId ? vp.profileId : undefined],
  ]);
  w.close('virtualport');
}
