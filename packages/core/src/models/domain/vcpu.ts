/**
 * vCPUs and I/O threads: <vcpu>, <vcpus>, <iothreads>, <iothreadids>,
 * <defaultiothread>, and <numatune>.
 */
import type { KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { formatIdList, parseIdList } from '../../xml/values.js';
import { ElemReader, xmlError } from './reader.js';
import { writeEl, yn } from './writer.js';

export interface VcpuState {
  enabled: boolean;
  hotpluggable?: boolean;
  order?: number;
}

export interface VcpuDef {
  /** Maximum vCPU count (text of <vcpu>). */
  max: number;
  /** vCPUs online at boot (`current`); equals `max` when not given. */
  current: number;
  placement: 'static' | 'auto';
  /** Host CPUs the vCPUs may run on (static placement). */
  cpuset?: number[];
  /** Per-vCPU state from <vcpus>, indexed by vCPU id (present only when given). */
  vcpus?: VcpuState[];
  /** Whether `placement` was given or derived (libvirt formats it always). */
  placementGiven?: boolean;
  kept?: KeptXml;
}

export interface IothreadIdDef {
  id: number;
  threadPoolMin?: number;
  threadPoolMax?: number;
  poll?: { max?: number; grow?: number; shrink?: number };
  /** Filled in by post-parse, not given by the user (not formatted). */
  autofill?: boolean;
  kept?: KeptXml;
}

export interface DefaultIothreadDef {
  threadPoolMin?: number;
  threadPoolMax?: number;
}

export interface NumatuneMemnode {
  cellid: number;
  mode?: NumatuneMode;
  nodeset: number[];
}

export const NUMATUNE_MODES = ['strict', 'preferred', 'interleave', 'restrictive'] as const;
export type NumatuneMode = (typeof NUMATUNE_MODES)[number];

export interface NumatuneDef {
  memory?: { mode: NumatuneMode; placement: 'static' | 'auto'; nodeset?: number[]; placementGiven?: boolean };
  memnodes: NumatuneMemnode[];
  kept?: KeptXml;
}

const MAX_VCPUS = 16384;

export function parseVcpu(root: ElemReader, features: { individualVcpus?: boolean }): VcpuDef {
  const el = root.child('vcpu');
  const def: VcpuDef = { max: 1, current: 1, placement: 'static' };
  if (el) {
    const r = new ElemReader(el, '<vcpu>');
    const text = el.text().trim();
    if (text !== '') {
      if (!/^[0-9]+$/.test(text)) throw xmlError('<vcpu>', `maximum vcpus count must be an integer, got '${text}'`);
      def.max = Number(text);
    }
    const cur = r.str('current');
    if (cur !== undefined) {
      if (!/^\s*[0-9]+\s*$/.test(cur)) throw xmlError('<vcpu>', `current vcpus count must be an integer, got '${cur}'`);
      def.current = Number(cur);
    } else def.current = def.max;
    const placement = r.enum('placement', ['static', 'auto'] as const);
    const cpuset = r.str('cpuset');
    if (placement) def.placement = placement;
    if (cpuset !== undefined && def.placement === 'static') {
      def.cpuset = parseIdList(cpuset, "<vcpu> attribute 'cpuset'", 65535);
      if (def.cpuset.length === 0) throw xmlError('<vcpu>', `Invalid value of 'cpuset': ${cpuset}`);
    }
    if (placement) def.placementGiven = true;
    const kept = r.kept();
    if (kept) def.kept = kept;
  }
  if (def.max === 0) throw xmlError('<vcpu>', 'Invalid number of vcpus');
  if (def.max > MAX_VCPUS) throw xmlError('<vcpu>', `vcpu count ${def.max} is larger than the supported maximum`);
  if (def.current > def.max) throw xmlError('<vcpu>', 'maxvcpus must not be less than current vcpus');
  const vcpusEl = root.child('vcpus');
  if (vcpusEl) {
    if (!features.individualVcpus) {
      throw xmlError('<vcpus>', 'individual vCPU settings are not supported by this driver');
    }
    const states: VcpuState[] = [];
    for (let i = 0; i < def.max; i++) states.push({ enabled: false });
    let seenEnabled = 0;
    const orders = new Set<number>();
    for (const v of vcpusEl.elements('vcpu')) {
      const vr = new ElemReader(v, '<vcpus><vcpu>');
      const id = vr.uint('id');
      if (id === undefined) throw xmlError('<vcpus><vcpu>', "missing vcpu id");
      if (id >= def.max) throw xmlError('<vcpus><vcpu>', `vcpu id '${id}' is out of range of maximum vcpu count`);
      const st = states[id]!;
      const enabled = vr.yesNo('enabled');
      if (enabled === undefined) throw xmlError('<vcpus><vcpu>', `missing vcpu enabled state`);
      st.enabled = enabled;
      if (enabled) seenEnabled++;
      const hp = vr.yesNo('hotpluggable');
      if (hp !== undefined) st.hotpluggable = hp;
      const order = vr.uint('order');
      if (order !== undefined) {
        if (orders.has(order) && order !== 0) throw xmlError('<vcpus><vcpu>', `duplicate vcpu order '${order}'`);
        orders.add(order);
        st.order = order;
      }
    }
    def.vcpus = states;
    if (seenEnabled !== def.current) {
      // libvirt derives the current count from the enabled vCPUs when they are listed.
      def.current = seenEnabled;
    }
  }
  return def;
}

export function formatVcpu(w: XmlWriter, def: VcpuDef): void {
  const attrs: Array<readonly [string, string | number | undefined]> = [['placement', def.placement]];
  if (def.placement === 'static' && def.cpuset && def.cpuset.length) attrs.push(['cpuset', formatIdList(def.cpuset)]);
  if (def.current !== def.max) attrs.push(['current', def.current]);
  w.text('vcpu', def.max, def.kept?.attrs ? [...attrs, ...def.kept.attrs] : attrs);
  if (def.vcpus) {
    w.open('vcpus');
    def.vcpus.forEach((v, id) => {
      w.empty('vcpu', [['id', id], ['enabled', yn(v.enabled)], ['hotpluggable', yn(v.hotpluggable ?? true)], ['order', v.order || undefined]]);
    });
    w.close('vcpus');
  }
}

export function parseIothreads(root: ElemReader): { count: number; ids: IothreadIdDef[]; defaultIothread?: DefaultIothreadDef } {
  let count = 0;
  const t = root.childTrimmed('iothreads');
  if (t !== undefined) {
    if (!/^[0-9]+$/.test(t)) throw xmlError('<iothreads>', `invalid iothreads count '${t}'`);
    count = Number(t);
  }
  const ids: IothreadIdDef[] = [];
  const idsEl = root.child('iothreadids');
  if (idsEl) {
    for (const e of idsEl.elements('iothread')) {
      const r = new ElemReader(e, '<iothreadids><iothread>');
      const id = r.uint('id');
      if (id === undefined) throw xmlError('<iothread>', 'Missing \'id\' attribute in <iothread> element');
      if (id === 0) throw xmlError('<iothread>', "invalid iothread 'id' value '0'");
      if (ids.some((x) => x.id === id)) throw xmlError('<iothreadids>', `duplicate iothread id '${id}' found`);
      const it: IothreadIdDef = { id };
      const min = r.int('thread_pool_min', -1);
      const max = r.int('thread_pool_max', -1);
      if (min !== undefined && min >= 0) it.threadPoolMin = min;
      if (max !== undefined && max >= 0) it.threadPoolMax = max;
      if (max === 0) throw xmlError('<iothread>', "thread_pool_max must be a positive integer");
      if (it.threadPoolMin !== undefined && it.threadPoolMax !== undefined && it.threadPoolMin > it.threadPoolMax) {
        throw xmlError('<iothread>', "thread_pool_min must be smaller or equal to thread_pool_max");
      }
      const poll = r.child('poll');
      if (poll) {
        const pr = new ElemReader(poll, '<iothread><poll>');
        it.poll = {};
        const pm = pr.ulong('max');
        const pg = pr.ulong('grow');
        const ps = pr.ulong('shrink');
        if (pm !== undefined) it.poll.max = pm;
        if (pg !== undefined) it.poll.grow = pg;
        if (ps !== undefined) it.poll.shrink = ps;
      }
      const kept = r.kept();
      if (kept) it.kept = kept;
      ids.push(it);
    }
  }
  if (ids.length > count) count = ids.length;
  let defaultIothread: DefaultIothreadDef | undefined;
  const dEl = root.child('defaultiothread');
  if (dEl) {
    const r = new ElemReader(dEl, '<defaultiothread>');
    defaultIothread = {};
    const min = r.int('thread_pool_min', -1);
    const max = r.int('thread_pool_max', -1);
    if (min !== undefined && min >= 0) defaultIothread.threadPoolMin = min;
    if (max !== undefined && max >= 0) defaultIothread.threadPoolMax = max;
    if (max === 0) throw xmlError('<defaultiothread>', "thread_pool_max must be a positive integer");
    if (min !== undefined && max !== undefined && min > max) throw xmlError('<defaultiothread>', "thread_pool_min must be smaller or equal to thread_pool_max");
  }
  return defaultIothread ? { count, ids, defaultIothread } : { count, ids };
}

/** libvirt adds the missing thread ids (1, 2, … not yet used) as autofilled entries. */
export function fillIothreadIds(count: number, ids: IothreadIdDef[]): void {
  if (ids.length >= count) return;
  const used = new Set(ids.map((i) => i.id));
  let next = 1;
  while (ids.length < count) {
    while (used.has(next)) next++;
    ids.push({ id: next, autofill: true });
    used.add(next);
  }
}

export function formatIothreads(w: XmlWriter, count: number, ids: IothreadIdDef[], def?: DefaultIothreadDef): void {
  if (count > 0) w.text('iothreads', count);
  const show = ids.some((i) => !i.autofill || i.threadPoolMin !== undefined || i.threadPoolMax !== undefined || i.poll);
  if (show && ids.length) {
    w.open('iothreadids');
    for (const i of ids) {
      const attrs: Array<readonly [string, number | string | undefined]> = [
        ['id', i.id],
        ['thread_pool_min', i.threadPoolMin],
        ['thread_pool_max', i.threadPoolMax],
      ];
      writeEl(w, 'iothread', attrs, i.poll ? (c) => c.empty('poll', [['max', i.poll!.max], ['grow', i.poll!.grow], ['shrink', i.poll!.shrink]]) : undefined, i.kept, true);
    }
    w.close('iothreadids');
  }
  if (def && (def.threadPoolMin !== undefined || def.threadPoolMax !== undefined)) {
    w.empty('defaultiothread', [['thread_pool_min', def.threadPoolMin], ['thread_pool_max', def.threadPoolMax]]);
  }
}

export function parseNumatune(el: XmlElement): NumatuneDef {
  const r = new ElemReader(el, '<numatune>');
  const def: NumatuneDef = { memnodes: [] };
  const memEls = r.children('memory');
  if (memEls.length > 1) throw xmlError('<numatune>', 'Only one memory element may be specified');
  const mem = memEls[0];
  if (mem) {
    const mr = new ElemReader(mem, '<numatune><memory>');
    const mode = mr.enum('mode', NUMATUNE_MODES) ?? 'strict';
    const placement = mr.enum('placement', ['static', 'auto'] as const);
    const nodesetStr = mr.str('nodeset');
    let nodeset: number[] | undefined;
    if (nodesetStr !== undefined) {
      nodeset = parseIdList(nodesetStr, "<numatune><memory> attribute 'nodeset'", 65535);
      if (nodeset.length === 0) throw xmlError('<numatune><memory>', 'nodeset for NUMA memory tuning must not be empty');
    }
    let pl: 'static' | 'auto' = placement ?? (nodeset ? 'static' : 'auto');
    if (pl === 'static' && !nodeset) throw xmlError('<numatune><memory>', "nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
    if (pl === 'auto') nodeset = undefined;
    def.memory = { mode, placement: pl, ...(nodeset ? { nodeset } : {}), ...(placement ? { placementGiven: true } : {}) };
    if (mode === 'restrictive' && pl === 'auto' && placement === undefined) pl = 'auto';
  }
  for (const n of r.children('memnode')) {
    const nr = new ElemReader(n, '<numatune><memnode>');
    const cellid = nr.uint('cellid');
    if (cellid === undefined) throw xmlError('<numatune><memnode>', "Missing required cellid attribute in memnode element");
    const mode = nr.enum('mode', NUMATUNE_MODES);
    const ns = nr.str('nodeset');
    if (ns === undefined) throw xmlError('<numatune><memnode>', "Missing required nodeset attribute in memnode element");
    if (def.memnodes.some((m) => m.cellid === cellid)) throw xmlError('<numatune><memnode>', `Multiple memnode elements with cellid ${cellid}`);
    const nodeset = parseIdList(ns, "<numatune><memnode> attribute 'nodeset'", 65535);
    if (nodeset.length === 0) throw xmlError('<numatune><memnode>', 'nodeset for NUMA memory tuning must not be empty');
    def.memnodes.push({ cellid, ...(mode ? { mode } : {}), nodeset });
  }
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatNumatune(w: XmlWriter, def: NumatuneDef | undefined): void {
  if (!def || (!def.memory && def.memnodes.length === 0 && !def.kept)) return;
  writeEl(w, 'numatune', [], (c) => {
    const m = def.memory;
    if (m) {
      if (m.placement === 'static') c.empty('memory', [['mode', m.mode], ['nodeset', formatIdList(m.nodeset ?? [])]]);
      else c.empty('memory', [['mode', m.mode], ['placement', m.placement]]);
    }
    for (const n of def.memnodes) {
      c.empty('memnode', [['cellid', n.cellid], ['mode', n.mode ?? 'strict'], ['nodeset', formatIdList(n.nodeset)]]);
    }
  }, def.kept);
}
