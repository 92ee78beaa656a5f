/** <sound> devices and <audio> backends. */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { writeEl, yn, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';

export const SOUND_MODELS = ['sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb', 'ich7'] as const;

export interface SoundDef {
  model: string;
  codecs: string[];
  audioId?: number;
  info: DeviceInfo;
  kept?: KeptXml;
}

export function parseSound(el: XmlElement, ctx: ParseContext): SoundDef {
  const r = new ElemReader(el, '<sound>');
  const model = r.enum('model', SOUND_MODELS);
  if (!model) throw xmlError('<sound>', r.has('model') ? `unknown sound model '${el.attr('model')}'` : 'missing sound model');
  const def: SoundDef = { model, codecs: [], info: {} };
  for (const c of r.children('codec')) {
    const t = new ElemReader(c, '<sound><codec>').enum('type', ['duplex', 'micro', 'output'] as const);
    if (!t) throw xmlError('<sound>', 'missing codec type');
    def.codecs.push(t);
  }
  const audio = r.child('audio');
  if (audio) {
    const id = new ElemReader(audio, '<sound><audio>').uint('id');
    if (id !== undefined && id > 0) def.audioId = id;
  }
  def.info = parseDeviceInfo(r, ctx);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatSound(w: XmlWriter, def: SoundDef, ctx: FormatContext): void {
  writeEl(w, 'sound', [['model', def.model]], (c) => {
    for (const t of def.codecs) c.empty('codec', [['type', t]]);
    if (def.audioId) c.empty('audio', [['id', def.audioId]]);
    formatDeviceInfo(c, def.info, ctx);
  }, def.kept, true);
}

export const AUDIO_TYPES = ['none', 'alsa', 'coreaudio', 'jack', 'oss', 'pulseaudio', 'sdl', 'spice', 'file', 'dbus'] as const;

/** Settings of one audio direction (<input>/<output>); type-specific extras are kept in `extra` in libvirt's order. */
export interface AudioIoDef {
  mixingEngine?: boolean;
  fixedSettings?: boolean;
  voices?: number;
  bufferLength?: number;
  extra: Array<[string, string]>;
  settings?: { frequency?: number; channels?: number; format?: string };
}

export interface AudioDef {
  id: number;
  type: string;
  timerPeriod?: number;
  /** Type-specific attributes of <audio> in libvirt's order. */
  extra: Array<[string, string]>;
  input?: AudioIoDef;
  output?: AudioIoDef;
  kept?: KeptXml;
}

const AUDIO_TYPE_ATTRS: Record<string, string[]> = {
  oss: ['tryMMap', 'exclusive', 'dspPolicy'],
  pulseaudio: ['serverName'],
  sdl: ['driver'],
  file: ['path'],
};
const AUDIO_IO_ATTRS: Record<string, string[]> = {
  alsa: ['dev'],
  coreaudio: ['bufferCount'],
  jack: ['serverName', 'clientName', 'connectPorts', 'exactName'],
  oss: ['dev', 'bufferCount', 'tryPoll'],
  pulseaudio: ['name', 'streamName', 'latency'],
  sdl: ['bufferCount'],
};

function parseAudioIo(el: XmlElement, type: string, where: string): AudioIoDef {
  const r = new ElemReader(el, where);
  const io: AudioIoDef = { extra: [] };
  const me = r.yesNo('mixingEngine');
  if (me !== undefined) io.mixingEngine = me;
  const fs = r.yesNo('fixedSettings');
  if (fs !== undefined) io.fixedSettings = fs;
  const v = r.uint('voices');
  if (v !== undefined) io.voices = v;
  const bl = r.uint('bufferLength');
  if (bl !== undefined) io.bufferLength = bl;
  for (const a of AUDIO_IO_ATTRS[type] ?? []) {
    const val = r.str(a);
    if (val !== undefined) io.extra.push([a, val]);
  }
  const s = r.child('settings');
  if (s) {
    if (io.fixedSettings !== true) throw xmlError(where, 'audio settings specified without fixed settings flag');
    const sr = new ElemReader(s, `${where} <settings>`);
    io.settings = {};
    const f = sr.uint('frequency');
    if (f !== undefined) io.settings.frequency = f;
    const ch = sr.uint('channels');
    if (ch !== undefined) io.settings.channels = ch;
    const fmt = sr.enum('format', ['s8', 'u8', 's16', 'u16', 's32', 'u32', 'f32'] as const);
    if (fmt) io.settings.format = fmt;
  }
  return io;
}

export function parseAudio(el: XmlElement): AudioDef {
  const r = new ElemReader(el, '<audio>');
  const id = r.uint('id');
  if (id === undefined || id === 0) throw xmlError('<audio>', "missing or invalid audio 'id'");
  const type = r.enum('type', AUDIO_TYPES);
  if (!type) throw xmlError('<audio>', 'missing or unknown audio type');
  const def: AudioDef = { id, type, extra: [] };
  const tp = r.uint('timerPeriod');
  if (tp !== undefined) def.timerPeriod = tp;
  for (const a of AUDIO_TYPE_ATTRS[type] ?? []) {
    const v = r.str(a);
    if (v !== undefined) def.extra.push([a, v]);
  }
  const i = r.child('input');
  if (i) def.input = parseAudioIo(i, type, `audio ${id} <input>`);
  const o = r.child('output');
  if (o) def.output = parseAudioIo(o, type, `audio ${id} <output>`);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

function formatAudioIo(w: XmlWriter, name: string, io: AudioIoDef | undefined): void {
  if (!io) return;
  const a: AttrList = [['mixingEngine', yn(io.mixingEngine)], ['fixedSettings', yn(io.fixedSettings)], ['voices', io.voices], ['bufferLength', io.bufferLength], ...io.extra];
  w.element(name, a, io.settings ? (c) => c.empty('settings', [['frequency', io.settings!.frequency], ['channels', io.settings!.channels], ['format', io.settings!.format]]) : undefined);
}

export function formatAudio(w: XmlWriter, def: AudioDef): void {
  writeEl(w, 'audio', [['id', def.id], ['type', def.type], ['timerPeriod', def.timerPeriod], ...def.extra], (c) => {
    formatAudioIo(c, 'input', def.input);
    formatAudioIo(c, 'output', def.output);
  }, def.kept, true);
}
