/**
 * Security: domain <seclabel>s, per-device <seclabel>s, <keywrap> and
 * <launchSecurity> (AMD SEV, s390 protected virtualization).
 */
import type { KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { ElemReader, xmlError } from './reader.js';
import { writeEl, yn, oo } from './writer.js';

export interface SeclabelDef {
  type: 'dynamic' | 'static' | 'none';
  model?: string;
  relabel: boolean;
  label?: string;
  imagelabel?: string;
  baselabel?: string;
  /** Added by a driver, not given by the user (dropped in migratable XML for dac/none). */
  implicit?: boolean;
}

export interface DeviceSeclabelDef {
  model?: string;
  relabel: boolean;
  labelskip?: boolean;
  label?: string;
}

export function parseSeclabel(el: XmlElement, inactive: boolean): SeclabelDef {
  const r = new ElemReader(el, '<seclabel>');
  const type = r.enum('type', ['dynamic', 'static', 'none'] as const) ?? 'dynamic';
  const def: SeclabelDef = { type, relabel: type === 'dynamic' };
  const model = r.str('model');
  if (model !== undefined) def.model = model;
  const relabel = r.yesNo('relabel');
  if (relabel !== undefined) {
    if (type === 'dynamic' && !relabel) throw xmlError('<seclabel>', 'dynamic label type must use resource relabeling');
    if (type === 'none' && relabel) throw xmlError('<seclabel>', "resource relabeling is not compatible with 'none' label type");
    def.relabel = relabel;
  }
  r.ignoreAttrs('labelskip');
  if (type === 'static' || (type === 'dynamic' && !inactive)) {
    const label = r.childTrimmed('label');
    if (label !== undefined) def.label = label;
    else if (type === 'static' && model !== 'none') throw xmlError('<seclabel>', 'security label is missing');
  } else r.ignoreChildren('label');
  if (def.relabel && (type === 'static' || !inactive)) {
    const il = r.childTrimmed('imagelabel');
    if (il !== undefined) def.imagelabel = il;
  } else r.ignoreChildren('imagelabel');
  if (type === 'dynamic') {
    const bl = r.childTrimmed('baselabel');
    if (bl !== undefined) def.baselabel = bl;
  } else r.ignoreChildren('baselabel');
  return def;
}

export function formatSeclabel(w: XmlWriter, def: SeclabelDef, migratable: boolean): void {
  if ((def.model === 'dac' || def.model === 'none') && def.implicit && migratable) return;
  const attrs: Array<readonly [string, string | undefined]> = [['type', def.type], ['model', def.model]];
  if (def.type === 'none') {
    w.empty('seclabel', attrs);
    return;
  }
  attrs.push(['relabel', yn(def.relabel)]);
  if (def.label || def.imagelabel || def.baselabel) {
    w.open('seclabel', attrs);
    w.text('label', def.label);
    if (def.relabel) w.text('imagelabel', def.imagelabel);
    if (def.type === 'dynamic') w.text('baselabel', def.baselabel);
    w.close('seclabel');
  } else w.empty('seclabel', attrs);
}

export function parseDeviceSeclabels(r: ElemReader, where: string): DeviceSeclabelDef[] {
  const out: DeviceSeclabelDef[] = [];
  for (const el of r.children('seclabel')) {
    const sr = new ElemReader(el, `${where} <seclabel>`);
    const def: DeviceSeclabelDef = { relabel: true };
    const model = sr.str('model');
    if (model !== undefined) {
      if (out.some((x) => x.model === model)) throw xmlError(where, `seclabel for model ${model} is already provided`);
      def.model = model;
    }
    const relabel = sr.yesNo('relabel');
    if (relabel !== undefined) def.relabel = relabel;
    const skip = sr.yesNo('labelskip');
    if (skip) def.labelskip = true;
    const label = sr.childTrimmed('label');
    if (label !== undefined) {
      if (!def.relabel) throw xmlError(where, 'Cannot specify a label if relabelling is turned off');
      def.label = label;
    }
    out.push(def);
  }
  return out;
}

export function formatDeviceSeclabels(w: XmlWriter, labels: DeviceSeclabelDef[] | undefined): void {
  if (!labels) return;
  for (const l of labels) {
    const attrs: Array<readonly [string, string | undefined]> = [['model', l.model]];
    if (l.labelskip) attrs.push(['labelskip', 'yes']);
    else attrs.push(['relabel', yn(l.relabel)]);
    if (l.label) {
      w.open('seclabel', attrs);
      w.text('label', l.label);
      w.close('seclabel');
    } else w.empty('seclabel', attrs);
  }
}

export interface KeywrapDef {
  aes?: boolean;
  dea?: boolean;
}

export function parseKeywrap(el: XmlElement): KeywrapDef {
  const def: KeywrapDef = {};
  for (const c of el.elements('cipher')) {
    const r = new ElemReader(c, '<keywrap><cipher>');
    const name = r.enumReq('name', ['aes', 'dea'] as const);
    const state = r.onOff('state');
    if (state === undefined) throw xmlError('<keywrap><cipher>', "missing state for cipher named " + name);
    if (def[name] !== undefined) throw xmlError('<keywrap>', `A domain definition can have no more than one cipher node with name ${name}`);
    def[name] = state;
  }
  return def;
}

export function formatKeywrap(w: XmlWriter, def: KeywrapDef | undefined): void {
  if (!def || (def.aes === undefined && def.dea === undefined)) return;
  w.open('keywrap');
  if (def.aes !== undefined) w.empty('cipher', [['name', 'aes'], ['state', oo(def.aes)]]);
  if (def.dea !== undefined) w.empty('cipher', [['name', 'dea'], ['state', oo(def.dea)]]);
  w.close('keywrap');
}

export interface LaunchSecurityDef {
  type: 'sev' | 's390-pv';
  kernelHashes?: boolean;
  cbitpos?: number;
  reducedPhysBits?: number;
  policy?: number;
  dhCert?: string;
  session?: string;
  kept?: KeptXml;
}

export function parseLaunchSecurity(el: XmlElement): LaunchSecurityDef {
  const r = new ElemReader(el, '<launchSecurity>');
  const type = r.enumReq('type', ['sev', 's390-pv'] as const);
  const def: LaunchSecurityDef = { type };
  if (type === 'sev') {
    const kh = r.yesNo('kernelHashes');
    if (kh !== undefined) def.kernelHashes = kh;
    const num = (name: string, required: boolean): number | undefined => {
      const t = r.childTrimmed(name);
      if (t === undefined) {
        if (required) throw xmlError('<launchSecurity>', `failed to get launch security ${name}`);
        return undefined;
      }
      const s = t.toLowerCase();
      let n: number;
      if (/^0x[0-9a-f]+$/.test(s)) n = parseInt(s.slice(2), 16);
      else if (/^[0-9]+$/.test(s)) n = Number(s);
      else throw xmlError('<launchSecurity>', `failed to get launch security ${name}`);
      return n;
    };
    const cb = num('cbitpos', false);
    if (cb !== undefined) def.cbitpos = cb;
    const rb = num('reducedPhysBits', false);
    if (rb !== undefined) def.reducedPhysBits = rb;
    const p = num('policy', true);
    if (p !== undefined) def.policy = p;
    const dh = r.childTrimmed('dhCert');
    if (dh !== undefined) def.dhCert = dh;
    const ses = r.childTrimmed('session');
    if (ses !== undefined) def.session = ses;
  }
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatLaunchSecurity(w: XmlWriter, def: LaunchSecurityDef | undefined): void {
  if (!def) return;
  if (def.type === 's390-pv') {
    writeEl(w, 'launchSecurity', [['type', def.type]], undefined, def.kept);
    return;
  }
  writeEl(w, 'launchSecurity', [['type', def.type], ['kernelHashes', yn(def.kernelHashes)]], (c) => {
    if (def.cbitpos !== undefined) c.text('cbitpos', def.cbitpos);
    if (def.reducedPhysBits !== undefined) c.text('reducedPhysBits', def.reducedPhysBits);
    c.text('policy', '0x' + (def.policy ?? 0).toString(16).padStart(4, '0'));
    c.text('dhCert', def.dhCert);
    c.text('session', def.session);
  }, def.kept);
}
