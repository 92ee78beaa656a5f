/** <clock>: guest clock offset and timers. */
import type { KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { ElemReader, xmlError } from './reader.js';
import { writeEl, yn, type AttrList } from './writer.js';

export const TIMER_NAMES = ['platform', 'pit', 'rtc', 'hpet', 'tsc', 'kvmclock', 'hypervclock', 'armvtimer'] as const;

export interface TimerDef {
  name: (typeof TIMER_NAMES)[number];
  present?: boolean;
  tickpolicy?: string;
  track?: string;
  frequency?: number;
  mode?: string;
  catchup?: { threshold?: number; slew?: number; limit?: number };
}

export interface ClockDef {
  offset: 'utc' | 'localtime' | 'timezone' | 'variable' | 'absolute';
  /** utc/localtime: adjustment='reset'. */
  reset?: boolean;
  /** variable offset in seconds and its basis. */
  adjustment?: number;
  basis?: 'utc' | 'localtime';
  timezone?: string;
  /** absolute start time (epoch seconds). */
  start?: number;
  timers: TimerDef[];
  kept?: KeptXml;
}

export function parseClock(el: XmlElement | undefined): ClockDef {
  const def: ClockDef = { offset: 'utc', timers: [] };
  if (!el) return def;
  const r = new ElemReader(el, '<clock>');
  def.offset = r.enum('offset', ['utc', 'localtime', 'timezone', 'variable', 'absolute'] as const) ?? 'utc';
  switch (def.offset) {
    case 'utc': case 'localtime': {
      const adj = r.str('adjustment');
      if (adj === 'reset') def.reset = true;
      else if (adj !== undefined) {
        if (!/^\s*[-+]?[0-9]+\s*$/.test(adj)) throw xmlError('<clock>', `unknown clock adjustment '${adj}'`);
        def.basis = def.offset;
        def.adjustment = Number(adj);
        def.offset = 'variable';
      }
      break;
    }
    case 'variable': {
      const adj = r.str('adjustment');
      if (adj !== undefined) {
        if (!/^\s*[-+]?[0-9]+\s*$/.test(adj)) throw xmlError('<clock>', `unknown clock adjustment '${adj}'`);
        def.adjustment = Number(adj);
      } else def.adjustment = 0;
      def.basis = r.enum('basis', ['utc', 'localtime'] as const) ?? 'utc';
      r.ignoreAttrs('adjustment0');
      break;
    }
    case 'timezone': {
      const tz = r.str('timezone');
      if (!tz) throw xmlError('<clock>', 'missing \'timezone\' attribute for clock with offset=\'timezone\'');
      def.timezone = tz;
      break;
    }
    case 'absolute': {
      const s = r.str('start');
      if (s === undefined || !/^\s*[0-9]+\s*$/.test(s)) throw xmlError('<clock>', "missing or invalid 'start' attribute for clock with offset='absolute'");
      def.start = Number(s);
      break;
    }
  }
  for (const t of r.children('timer')) {
    const tr = new ElemReader(t, '<clock><timer>');
    const name = tr.enum('name', TIMER_NAMES);
    if (!name) throw xmlError('<timer>', 'missing or unknown timer name');
    const timer: TimerDef = { name };
    const present = tr.yesNo('present');
    if (present !== undefined) timer.present = present;
    const tp = tr.enum('tickpolicy', ['delay', 'catchup', 'merge', 'discard'] as const);
    if (tp) timer.tickpolicy = tp;
    const track = tr.enum('track', ['boot', 'guest', 'wall', 'realtime'] as const);
    if (track) {
      if (name !== 'platform' && name !== 'rtc') throw xmlError('<timer>', `timer '${name}' does not support 'track'`);
      timer.track = track;
    }
    const freq = tr.ulong('frequency');
    if (freq !== undefined) timer.frequency = freq;
    const mode = tr.enum('mode', ['auto', 'native', 'emulate', 'paravirt', 'smpsafe'] as const);
    if (mode) timer.mode = mode;
    const cu = tr.child('catchup');
    if (cu) {
      const cr = new ElemReader(cu, '<timer><catchup>');
      timer.catchup = {};
      const th = cr.uint('threshold');
      if (th !== undefined) timer.catchup.threshold = th;
      const sl = cr.uint('slew');
      if (sl !== undefined) timer.catchup.slew = sl;
      const li = cr.uint('limit');
      if (li !== undefined) timer.catchup.limit = li;
    }
    def.timers.push(timer);
  }
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatClock(w: XmlWriter, def: ClockDef): void {
  const a: AttrList = [['offset', def.offset]];
  if (def.offset === 'utc' || def.offset === 'localtime') {
    if (def.reset) a.push(['adjustment', 'reset']);
  } else if (def.offset === 'variable') a.push(['adjustment', def.adjustment ?? 0], ['basis', def.basis ?? 'utc']);
  else if (def.offset === 'timezone') a.push(['timezone', def.timezone]);
  else if (def.offset === 'absolute') a.push(['start', def.start]);
  writeEl(w, 'clock', a, (c) => {
    for (const t of def.timers) {
      const ta: AttrList = [['name', t.name], ['present', yn(t.present)], ['tickpolicy', t.tickpolicy]];
      if (t.name === 'platform' || t.name === 'rtc') ta.push(['track', t.track]);
      if (t.name === 'tsc') ta.push(['frequency', t.frequency || undefined], ['mode', t.mode]);
      else ta.push(['mode', t.mode]);
      const cu = t.catchup;
      if (cu && (cu.threshold || cu.slew || cu.limit)) {
        c.open('timer', ta);
        c.empty('catchup', [['threshold', cu.threshold || undefined], ['slew', cu.slew || undefined], ['limit', cu.limit || undefined]]);
        c.close('timer');
      } else c.empty('timer', ta);
    }
  }, def.kept, true);
}
