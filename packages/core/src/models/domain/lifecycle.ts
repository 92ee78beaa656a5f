/** Lifecycle actions (<on_poweroff>, <on_reboot>, <on_crash>, <on_lockfailure>), <pm> and <perf>. */
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { ElemReader, xmlError } from './reader.js';
import { yn } from './writer.js';

export const LIFECYCLE_ACTIONS = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];
export const LOCK_FAILURE_ACTIONS = ['poweroff', 'restart', 'pause', 'ignore'] as const;

export interface LifecycleDef {
  onPoweroff: LifecycleAction;
  onReboot: LifecycleAction;
  onCrash: LifecycleAction;
  onLockfailure?: (typeof LOCK_FAILURE_ACTIONS)[number];
}

function action(r: ElemReader, name: string, dflt: LifecycleAction, crash: boolean): LifecycleAction {
  const t = r.childTrimmed(name);
  if (t === undefined) return dflt;
  const allowed: readonly string[] = crash ? LIFECYCLE_ACTIONS : LIFECYCLE_ACTIONS.slice(0, 4);
  if (!allowed.includes(t)) throw xmlError(`<${name}>`, `unknown ${name} action: ${t}`);
  return t as LifecycleAction;
}

export function parseLifecycle(root: ElemReader): LifecycleDef {
  const def: LifecycleDef = {
    onReboot: action(root, 'on_reboot', 'restart', false),
    onPoweroff: action(root, 'on_poweroff', 'destroy', false),
    onCrash: action(root, 'on_crash', 'destroy', true),
  };
  const lf = root.childTrimmed('on_lockfailure');
  if (lf !== undefined && lf !== 'default') {
    if (!(LOCK_FAILURE_ACTIONS as readonly string[]).includes(lf)) throw xmlError('<on_lockfailure>', `unknown lock failure action: ${lf}`);
    def.onLockfailure = lf as LifecycleDef['onLockfailure'];
  }
  return def;
}

export function formatLifecycle(w: XmlWriter, def: LifecycleDef): void {
  w.text('on_poweroff', def.onPoweroff);
  w.text('on_reboot', def.onReboot);
  w.text('on_crash', def.onCrash);
  w.text('on_lockfailure', def.onLockfailure);
}

export interface PmDef {
  suspendToMem?: boolean;
  suspendToDisk?: boolean;
}

export function parsePm(el: XmlElement): PmDef {
  const def: PmDef = {};
  const m = el.child('suspend-to-mem');
  if (m) {
    const v = new ElemReader(m, '<pm><suspend-to-mem>').yesNo('enabled');
    if (v !== undefined) def.suspendToMem = v;
  }
  const d = el.child('suspend-to-disk');
  if (d) {
    const v = new ElemReader(d, '<pm><suspend-to-disk>').yesNo('enabled');
    if (v !== undefined) def.suspendToDisk = v;
  }
  return def;
}

export function formatPm(w: XmlWriter, def: PmDef | undefined): void {
  if (!def || (def.suspendToMem === undefined && def.suspendToDisk === undefined)) return;
  w.open('pm');
  if (def.suspendToMem !== undefined) w.empty('suspend-to-mem', [['enabled', yn(def.suspendToMem)]]);
  if (def.suspendToDisk !== undefined) w.empty('suspend-to-disk', [['enabled', yn(def.suspendToDisk)]]);
  w.close('pm');
}

export const PERF_EVENTS = [
  'cmt', 'mbmt', 'mbml', 'cpu_cycles', 'instructions', 'cache_references', 'cache_misses', 'branch_instructions', 'branch_misses',
  'bus_cycles', 'stalled_cycles_frontend', 'stalled_cycles_backend', 'ref_cpu_cycles', 'cpu_clock', 'task_clock', 'page_faults',
  'context_switches', 'cpu_migrations', 'page_faults_min', 'page_faults_maj', 'alignment_faults', 'emulation_faults',
] as const;

/** Perf event name → enabled. */
export type PerfDef = Partial<Record<(typeof PERF_EVENTS)[number], boolean>>;

export function parsePerf(el: XmlElement): PerfDef {
  const def: PerfDef = {};
  for (const e of el.elements('event')) {
    const r = new ElemReader(e, '<perf><event>');
    const name = r.enum('name', PERF_EVENTS);
    if (!name) throw xmlError('<perf><event>', 'missing perf event name');
    if (def[name] !== undefined) continue;
    const en = r.yesNo('enabled');
    if (en === undefined) throw xmlError('<perf><event>', `missing state of perf event '${name}'`);
    def[name] = en;
  }
  return def;
}

export function formatPerf(w: XmlWriter, def: PerfDef | undefined): void {
  if (!def) return;
  const names = PERF_EVENTS.filter((n) => def[n] !== undefined);
  if (names.length === 0) return;
  w.open('perf');
  for (const n of names) w.empty('event', [['name', n], ['enabled', yn(def[n])]]);
  w.close('perf');
}
