/** <features>: hypervisor features (ACPI, APIC, Hyper-V enlightenments, SMM, …). */
import type { KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { parseScaled } from '../../xml/values.js';
import { ElemReader, xmlError } from './reader.js';
import { oo, writeEl, type AttrList } from './writer.js';

/** libvirt's feature order (virDomainFeature). */
export const FEATURE_NAMES = [
  'acpi', 'apic', 'pae', 'hap', 'viridian', 'privnet', 'hyperv', 'kvm', 'pvspinlock', 'capabilities', 'pmu', 'vmport', 'gic', 'smm',
  'ioapic', 'hpt', 'vmcoreinfo', 'htm', 'nested-hv', 'msrs', 'ccf-assist', 'xen', 'cfpc', 'sbbc', 'ibs', 'tcg', 'ps2', 'async-teardown',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

const PLAIN = new Set(['acpi', 'pae', 'viridian', 'privnet']);
const STATEFUL = new Set(['hap', 'pmu', 'pvspinlock', 'vmport', 'vmcoreinfo', 'htm', 'nested-hv', 'ccf-assist', 'ps2']);

export const HYPERV_FEATURES = [
  'relaxed', 'vapic', 'spinlocks', 'vpindex', 'runtime', 'synic', 'stimer', 'reset', 'vendor_id', 'frequencies', 'reenlightenment',
  'tlbflush', 'ipi', 'evmcs', 'avic',
] as const;
export const KVM_FEATURES = ['hidden', 'hint-dedicated', 'poll-control', 'pv-ipi', 'dirty-ring'] as const;
export const CAPS_FEATURES = [
  'audit_control', 'audit_write', 'block_suspend', 'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'ipc_lock', 'ipc_owner',
  'kill', 'lease', 'linux_immutable', 'mac_admin', 'mac_override', 'mknod', 'net_admin', 'net_bind_service', 'net_broadcast', 'net_raw',
  'setgid', 'setfcap', 'setpcap', 'setuid', 'sys_admin', 'sys_boot', 'sys_chroot', 'sys_module', 'sys_nice', 'sys_pacct', 'sys_ptrace',
  'sys_rawio', 'sys_resource', 'sys_time', 'sys_tty_config', 'syslog', 'wake_alarm',
] as const;

export interface HypervDef {
  mode: 'custom' | 'passthrough';
  /** Enlightenment name → on/off. */
  features: Partial<Record<(typeof HYPERV_FEATURES)[number], boolean>>;
  spinlockRetries?: number;
  stimerDirect?: boolean;
  vendorId?: string;
  tlbflushDirect?: boolean;
  tlbflushExtended?: boolean;
}

export interface FeaturesDef {
  /** Simple on/off features (acpi, apic, pae, hap, pmu, vmport, pvspinlock, smm, …): true = on, false = off. */
  states: Partial<Record<FeatureName, boolean>>;
  apicEoi?: boolean;
  hyperv?: HypervDef;
  kvm?: Partial<Record<(typeof KVM_FEATURES)[number], boolean>>;
  kvmDirtyRingSize?: number;
  xen?: { e820Host?: boolean; passthrough?: boolean; passthroughMode?: string };
  capabilities?: { policy?: 'allow' | 'deny'; caps: Partial<Record<string, boolean>> };
  gicVersion?: string;
  ioapicDriver?: 'kvm' | 'qemu';
  hpt?: { resizing?: string; maxpagesize?: number };
  msrsUnknown?: 'ignore' | 'fail';
  cfpc?: string;
  sbbc?: string;
  ibs?: string;
  /** SMM TSEG size in bytes. */
  smmTseg?: number;
  /** TCG translation block cache size in KiB. */
  tcgTbCache?: number;
  /** Order in which feature elements appeared is irrelevant: libvirt prints its own order. */
  kept?: KeptXml;
}

function state(r: ElemReader, where: string, name = 'state'): boolean {
  const v = r.onOff(name);
  if (v === undefined) {
    if (r.has(name)) throw xmlError(where, 'invalid state');
    return true;
  }
  return v;
}

export function parseFeatures(el: XmlElement): FeaturesDef {
  const root = new ElemReader(el, '<features>');
  const def: FeaturesDef = { states: {} };
  for (const f of el.elements()) {
    const name = f.name;
    const where = `<features><${name}>`;
    const r = new ElemReader(f, where);
    if (PLAIN.has(name)) {
      def.states[name as FeatureName] = true;
    } else if (STATEFUL.has(name)) {
      def.states[name as FeatureName] = state(r, where);
    } else if (name === 'apic') {
      def.states.apic = true;
      const eoi = r.onOff('eoi');
      if (eoi !== undefined) def.apicEoi = eoi;
    } else if (name === 'hyperv') {
      const mode = r.enum('mode', ['custom', 'passthrough'] as const) ?? 'custom';
      const hv: HypervDef = { mode, features: {} };
      if (mode === 'custom') {
        for (const h of f.elements()) {
          const hw = `<hyperv><${h.name}>`;
          if (!(HYPERV_FEATURES as readonly string[]).includes(h.name)) throw xmlError('<hyperv>', `unsupported HyperV Enlightenment feature: ${h.name}`);
          const hr = new ElemReader(h, hw);
          const on = hr.onOff('state');
          if (on === undefined) throw xmlError(hw, `missing 'state' attribute for HyperV Enlightenment feature '${h.name}'`);
          hv.features[h.name as (typeof HYPERV_FEATURES)[number]] = on;
          if (h.name === 'spinlocks' && on) {
            const retries = hr.uint('retries');
            if (retries === undefined) throw xmlError(hw, 'missing HyperV spinlock retry count');
            if (retries < 4095) throw xmlError(hw, 'HyperV spinlock retry count must be at least 4095');
            hv.spinlockRetries = retries;
          }
          if (h.name === 'vendor_id' && on) {
            const v = hr.str('value');
            if (v === undefined) throw xmlError(hw, 'missing HyperV vendor_id value');
            if (v.length > 12) throw xmlError(hw, 'HyperV vendor_id value must not be more than 12 characters');
            hv.vendorId = v;
          }
          if (h.name === 'stimer' && on) {
            const d = h.child('direct');
            if (d) hv.stimerDirect = state(new ElemReader(d, `${hw} <direct>`), `${hw} <direct>`);
          }
          if (h.name === 'tlbflush' && on) {
            const d = h.child('direct');
            if (d) hv.tlbflushDirect = state(new ElemReader(d, `${hw} <direct>`), `${hw} <direct>`);
            const x = h.child('extended');
            if (x) hv.tlbflushExtended = state(new ElemReader(x, `${hw} <extended>`), `${hw} <extended>`);
          }
        }
      }
      def.hyperv = hv;
      def.states.hyperv = true;
    } else if (name === 'kvm') {
      const k: Partial<Record<(typeof KVM_FEATURES)[number], boolean>> = {};
      for (const h of f.elements()) {
        if (!(KVM_FEATURES as readonly string[]).includes(h.name)) throw xmlError('<kvm>', `unsupported KVM feature: ${h.name}`);
        const hr = new ElemReader(h, `<kvm><${h.name}>`);
        const on = hr.onOff('state');
        if (on === undefined) throw xmlError('<kvm>', `missing 'state' attribute for KVM feature '${h.name}'`);
        k[h.name as (typeof KVM_FEATURES)[number]] = on;
        if (h.name === 'dirty-ring' && on) {
          const size = hr.uint('size');
          if (size === undefined || size < 1024 || size > 65536 || (size & (size - 1))) {
            throw xmlError('<kvm><dirty-ring>', 'dirty ring must be power of 2 and ranges [1024, 65536]');
          }
          def.kvmDirtyRingSize = size;
        }
      }
      def.kvm = k;
      def.states.kvm = true;
    } else if (name === 'xen') {
      def.xen = {};
      const e = f.child('e820_host');
      if (e) def.xen.e820Host = state(new ElemReader(e, '<xen><e820_host>'), '<xen><e820_host>');
      const p = f.child('passthrough');
      if (p) {
        const pr = new ElemReader(p, '<xen><passthrough>');
        def.xen.passthrough = state(pr, '<xen><passthrough>');
        const m = pr.enum('mode', ['sync_pt', 'share_pt'] as const);
        if (m) def.xen.passthroughMode = m;
      }
      def.states.xen = true;
    } else if (name === 'capabilities') {
      const policy = r.enum('policy', ['default', 'allow', 'deny'] as const);
      def.capabilities = { caps: {} };
      if (policy && policy !== 'default') def.capabilities.policy = policy;
      for (const c of f.elements()) {
        if (!(CAPS_FEATURES as readonly string[]).includes(c.name)) throw xmlError('<capabilities>', `unexpected capability feature '${c.name}'`);
        def.capabilities.caps[c.name] = state(new ElemReader(c, `<capabilities><${c.name}>`), `<capabilities><${c.name}>`);
      }
      def.states.capabilities = true;
    } else if (name === 'gic') {
      def.states.gic = true;
      const v = r.enum('version', ['none', 'host', '2', '3'] as const);
      if (v && v !== 'none') def.gicVersion = v;
    } else if (name === 'ioapic') {
      const d = r.enum('driver', ['kvm', 'qemu'] as const);
      if (d) {
        def.ioapicDriver = d;
        def.states.ioapic = true;
      }
    } else if (name === 'hpt') {
      def.hpt = {};
      const rs = r.enum('resizing', ['enabled', 'disabled', 'required'] as const);
      if (rs) def.hpt.resizing = rs;
      const mp = f.child('maxpagesize');
      if (mp) def.hpt.maxpagesize = Number((parseScaled(mp.text().trim(), mp.attr('unit'), '<hpt><maxpagesize>', 1024n) + 1023n) / 1024n);
      def.states.hpt = true;
    } else if (name === 'msrs') {
      const u = r.enum('unknown', ['ignore', 'fail'] as const);
      if (!u) throw xmlError(where, "missing 'unknown' attribute for feature 'msrs'");
      def.msrsUnknown = u;
      def.states.msrs = true;
    } else if (name === 'cfpc' || name === 'sbbc' || name === 'ibs') {
      const v = r.str('value');
      if (v === undefined) throw xmlError(where, `missing 'value' attribute for feature '${name}'`);
      def[name] = v;
      def.states[name] = true;
    } else if (name === 'smm') {
      const on = state(r, where);
      def.states.smm = on;
      const t = f.child('tseg');
      if (t && on) {
        const bytes = parseScaled(t.text().trim(), t.attr('unit'), '<smm><tseg>', 1n << 20n);
        if (bytes % (1n << 20n) !== 0n) throw xmlError(where, 'tseg size must be multiple of MiB');
        def.smmTseg = Number(bytes);
      }
    } else if (name === 'tcg') {
      const tb = f.child('tb-cache');
      if (tb) def.tcgTbCache = Number((parseScaled(tb.text().trim(), tb.attr('unit'), '<tcg><tb-cache>', 1n << 20n) + 1023n) / 1024n);
      def.states.tcg = true;
    } else if (name === 'async-teardown') {
      const v = r.yesNo('enabled');
      def.states['async-teardown'] = v ?? true;
    } else continue;
    root.ignoreChildren(name);
  }
  const kept = root.kept();
  if (kept) def.kept = kept;
  return def;
}

export function hasFeatures(def: FeaturesDef | undefined): boolean {
  return !!def && (Object.keys(def.states).length > 0 || !!def.kept);
}

export function formatFeatures(w: XmlWriter, def: FeaturesDef | undefined): void {
  if (!def) return;
  writeEl(w, 'features', [], (c) => {
    for (const name of FEATURE_NAMES) {
      const st = def.states[name];
      if (st === undefined) continue;
      if (PLAIN.has(name)) {
        if (st) c.empty(name);
      } else if (STATEFUL.has(name)) {
        c.empty(name, [['state', oo(st)]]);
      } else if (name === 'apic') {
        if (st) c.empty('apic', [['eoi', oo(def.apicEoi)]]);
      } else if (name === 'hyperv' && def.hyperv) {
        const hv = def.hyperv;
        c.element('hyperv', [['mode', hv.mode === 'passthrough' ? 'passthrough' : undefined]], (h) => {
          if (hv.mode !== 'custom') return;
          for (const f of HYPERV_FEATURES) {
            const on = hv.features[f];
            if (on === undefined) continue;
            const a: AttrList = [['state', oo(on)]];
            if (f === 'spinlocks' && on) a.push(['retries', hv.spinlockRetries]);
            if (f === 'vendor_id' && on) a.push(['value', hv.vendorId]);
            if (f === 'stimer' && on && hv.stimerDirect !== undefined) {
              h.open(f, a);
              h.empty('direct', [['state', oo(hv.stimerDirect)]]);
              h.close(f);
            } else if (f === 'tlbflush' && on && (hv.tlbflushDirect !== undefined || hv.tlbflushExtended !== undefined)) {
              h.open(f, a);
              if (hv.tlbflushDirect !== undefined) h.empty('direct', [['state', oo(hv.tlbflushDirect)]]);
              if (hv.tlbflushExtended !== undefined) h.empty('extended', [['state', oo(hv.tlbflushExtended)]]);
              h.close(f);
            } else h.empty(f, a);
          }
        }, true);
      } else if (name === 'kvm' && def.kvm) {
        const k = def.kvm;
        c.element('kvm', [], (x) => {
          for (const f of KVM_FEATURES) {
            const on = k[f];
            if (on === undefined) continue;
            x.empty(f, [['state', oo(on)], ['size', f === 'dirty-ring' && on ? def.kvmDirtyRingSize : undefined]]);
          }
        });
      } else if (name === 'xen' && def.xen) {
        const x = def.xen;
        c.element('xen', [], (e) => {
          if (x.e820Host !== undefined) e.empty('e820_host', [['state', oo(x.e820Host)]]);
          if (x.passthrough !== undefined) e.empty('passthrough', [['state', oo(x.passthrough)], ['mode', x.passthroughMode]]);
        });
      } else if (name === 'capabilities' && def.capabilities) {
        const cp = def.capabilities;
        const hasCaps = Object.keys(cp.caps).length > 0;
        c.element('capabilities', [['policy', cp.policy ?? (hasCaps ? 'default' : undefined)]], (e) => {
          for (const f of CAPS_FEATURES) {
            const on = cp.caps[f];
            if (on !== undefined) e.empty(f, [['state', oo(on)]]);
          }
        });
      } else if (name === 'gic') {
        if (st) c.empty('gic', [['version', def.gicVersion]]);
      } else if (name === 'ioapic') {
        if (def.ioapicDriver) c.empty('ioapic', [['driver', def.ioapicDriver]]);
      } else if (name === 'hpt' && def.hpt) {
        const h = def.hpt;
        c.element('hpt', [['resizing', h.resizing]], h.maxpagesize ? (x) => x.text('maxpagesize', h.maxpagesize, [['unit', 'KiB']]) : undefined);
      } else if (name === 'msrs') {
        c.empty('msrs', [['unknown', def.msrsUnknown]]);
      } else if (name === 'cfpc' || name === 'sbbc' || name === 'ibs') {
        c.empty(name, [['value', def[name]]]);
      } else if (name === 'smm') {
        const tseg = def.smmTseg;
        c.element('smm', [['state', oo(st)]], st && tseg !== undefined ? (x) => x.text('tseg', Math.floor(tseg / 1048576), [['unit', 'MiB']]) : undefined);
      } else if (name === 'tcg') {
        const tb = def.tcgTbCache;
        c.element('tcg', [], tb ? (x) => x.text('tb-cache', tb, [['unit', 'KiB']]) : undefined);
      } else if (name === 'async-teardown') {
        c.empty('async-teardown', [['enabled', st ? 'yes' : 'no']]);
      }
    }
  }, def.kept);
}
