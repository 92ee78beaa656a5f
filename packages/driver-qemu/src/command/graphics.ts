/**
 * Audio backends (-audiodev), displays (-vnc, -spice, -display) and video
 * devices.
 */
import { VirtError, SPICE_CHANNELS, type AudioDef, type AudioIoDef, type DomainDef, type GraphicsDef, type VideoDef } from '@virtkit/core';
import type { QemuCapabilities } from '../caps/index.js';
import type { QemuCommand } from './argv.js';
import { addAddressProps, virtioDevProps } from './device-props.js';
import { addProps, escapeComma, nz, props, toJson, type JsonObject, type JsonValue } from './json.js';
import { secretProps, tlsCredsProps } from './storage.js';
import type { BuildState } from './state.js';

function unsupported(msg: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', msg, { origin: 'qemu' });
}
function internal(msg: string): VirtError {
  return new VirtError('INTERNAL_ERROR', msg, { origin: 'qemu' });
}

const AUDIO_DRIVER: Record<string, string> = { pulseaudio: 'pa', file: 'wav' };

export function audioIdString(def: DomainDef, id: number | undefined): string {
  const a = id ? def.devices.audios.find((x) => x.id === id) : def.devices.audios[0];
  if (!a) throw internal('unable to find audio backend for sound device');
  return `audio${a.id}`;
}

function val(v: string): JsonValue {
  if (v === 'yes') return true;
  if (v === 'no') return false;
  if (/^-?[0-9]+$/.test(v)) return Number(v);
  return v;
}

const IO_PROP: Record<string, string> = {
  dev: 'dev', bufferCount: 'buffer-count', tryPoll: 'try-poll', serverName: 'server-name', clientName: 'client-name',
  connectPorts: 'connect-ports', exactName: 'exact-name', name: 'name', streamName: 'stream-name', latency: 'latency',
};

function audioIo(io: AudioIoDef | undefined): JsonObject | undefined {
  if (!io) return undefined;
  const o: JsonObject = {};
  const fixed = io.fixedSettings === true;
  addProps(o, [
    ['mixing-engine', io.mixingEngine], ['fixed-settings', io.fixedSettings], ['voices', nz(io.voices)], ['buffer-length', nz(io.bufferLength)],
    ['frequency', fixed ? nz(io.settings?.frequency) : undefined], ['channels', fixed ? nz(io.settings?.channels) : undefined],
    ['format', fixed ? io.settings?.format : undefined],
  ]);
  for (const [k, v] of io.extra) {
    const p = IO_PROP[k];
    if (p) o[p] = k === 'dev' || k.endsWith('Name') || k === 'connectPorts' || k === 'name' ? v : val(v);
  }
  return Object.keys(o).length ? o : undefined;
}

export function buildAudio(cmd: QemuCommand, state: BuildState): void {
  for (const a of state.def.devices.audios) {
    const o = props([['id', `audio${a.id}`], ['driver', AUDIO_DRIVER[a.type] ?? a.type], ['timer-period', nz(a.timerPeriod)]]);
    const extra = new Map(a.extra);
    if (a.type === 'oss') {
      addProps(o, [
        ['try-mmap', extra.has('tryMMap') ? extra.get('tryMMap') === 'yes' : undefined],
        ['exclusive', extra.has('exclusive') ? extra.get('exclusive') === 'yes' : undefined],
        ['dsp-policy', extra.has('dspPolicy') ? Number(extra.get('dspPolicy')) : undefined],
      ]);
    } else if (a.type === 'pulseaudio') addProps(o, [['server', extra.get('serverName')]]);
    else if (a.type === 'sdl') {
      const d = extra.get('driver');
      if (d) cmd.setEnv('SDL_AUDIODRIVER', d);
    } else if (a.type === 'file') addProps(o, [['path', extra.get('path')]]);
    addProps(o, [['in', audioIo(a.input)], ['out', audioIo(a.output)]]);
    cmd.arg('-audiodev', toJson(o));
  }
}

function vnc(cmd: QemuCommand, state: BuildState, g: GraphicsDef): void {
  const { cfg, def } = state;
  const audio = audioIdString(def, g.audioId);
  const l = g.listens[0];
  if (!l) throw internal('missing listen element');
  let s = '';
  switch (l.type) {
    case 'socket':
      s = `vnc=unix:${escapeComma(l.socket ?? '')}`;
      break;
    case 'address':
    case 'network': {
      const port = g.port ?? 0;
      if (!g.autoport && (port < 5900 || port > 65535)) throw unsupported('vnc port must be in range [5900,65535]');
      if (l.address) s += l.address.includes(':') ? `[${l.address}]` : l.address;
      s += `:${port - 5900}`;
      if (g.websocket) s += `,websocket=${g.websocket}`;
      break;
    }
    case 'none':
      s = 'none';
      break;
  }
  if (g.sharePolicy) s += `,share=${g.sharePolicy}`;
  if (g.auth?.passwd !== undefined || cfg.vncPassword) s += ',password=on';
  if (cfg.vncTLS) {
    const alias = 'vnc-tls-creds0';
    let secretAlias: string | undefined;
    if (cfg.vncTLSx509secretUUID) {
      const sec = state.secret(`${alias}-secret0`, state.lookupSecret({ uuid: cfg.vncTLSx509secretUUID }, 'tls'));
      cmd.arg('-object', toJson(secretProps(sec)));
      secretAlias = sec.alias;
    }
    cmd.arg('-object', toJson(tlsCredsProps(cfg.vncTLSx509certdir, true, cfg.vncTLSx509verify, alias, secretAlias)));
    s += `,tls-creds=${alias}`;
  }
  if (cfg.vncSASL) {
    s += ',sasl=on';
    if (cfg.vncSASLdir) cmd.setEnv('SASL_CONF_PATH', cfg.vncSASLdir);
  }
  if (g.powerControl !== undefined) s += `,power-control=${g.powerControl ? 'on' : 'off'}`;
  s += `,audiodev=${audio}`;
  cmd.arg('-vnc', s);
  if (g.keymap) cmd.arg('-k', g.keymap);
}

function spice(cmd: QemuCommand, state: BuildState, g: GraphicsDef): void {
  const { cfg } = state;
  const l = g.listens[0];
  if (!l) throw internal('missing listen element');
  let s = '';
  let hasSecure = false;
  let hasInsecure = false;
  const port = g.port ?? 0;
  const tlsPort = g.tlsPort ?? 0;
  switch (l.type) {
    case 'socket':
      s += `unix,addr=${escapeComma(l.socket ?? '')},`;
      hasInsecure = true;
      break;
    case 'address':
    case 'network':
      if (port > 0) {
        s += `port=${port},`;
        hasInsecure = true;
      }
      if (tlsPort > 0) {
        s += `tls-port=${tlsPort},`;
        hasSecure = true;
      }
      if ((port > 0 || tlsPort > 0) && l.address) s += `addr=${l.address},`;
      break;
    case 'none':
      s += 'port=0,';
      hasInsecure = true;
      break;
  }
  if (cfg.spiceSASL) {
    s += 'sasl=on,';
    if (cfg.spiceSASLdir) cmd.setEnv('SASL_CONF_PATH', cfg.spiceSASLdir);
  }
  if (g.mouseMode === 'server') s += 'agent-mouse=off,';
  else if (g.mouseMode === 'client') s += 'agent-mouse=on,';
  if (g.auth?.passwd === undefined && !cfg.spicePassword) s += 'disable-ticketing=on,';
  if (hasSecure) s += `x509-dir=${escapeComma(cfg.spiceTLSx509certdir)},`;
  if (g.defaultMode === 'secure') {
    if (!hasSecure) throw unsupported('spice defaultMode secure requested in XML configuration, but TLS connection is not available');
    s += 'tls-channel=default,';
  } else if (g.defaultMode === 'insecure') {
    if (!hasInsecure) throw unsupported('spice defaultMode insecure requested in XML configuration, but plaintext connection is not available');
    s += 'plaintext-channel=default,';
  }
  for (const ch of SPICE_CHANNELS) {
    const m = g.channels?.[ch];
    if (m === 'secure') {
      if (!hasSecure) throw unsupported('spice secure channels set in XML configuration, but TLS connection is not available');
      s += `tls-channel=${ch},`;
    } else if (m === 'insecure') {
      if (!hasInsecure) throw unsupported('spice insecure channels set in XML configuration, but plaintext connection is not available');
      s += `plaintext-channel=${ch},`;
    }
  }
  if (g.imageCompression) s += `image-compression=${g.imageCompression},`;
  if (g.jpegCompression) s += `jpeg-wan-compression=${g.jpegCompression},`;
  if (g.zlibCompression) s += `zlib-glz-wan-compression=${g.zlibCompression},`;
  if (g.playbackCompression !== undefined) s += `playback-compression=${g.playbackCompression ? 'on' : 'off'},`;
  if (g.streamingMode) s += `streaming-video=${g.streamingMode},`;
  if (g.copypaste === false) s += 'disable-copy-paste=on,';
  if (g.filetransfer === false) s += 'disable-agent-file-xfer=on,';
  if (g.gl?.enable) {
    s += 'gl=on,';
    if (g.gl.rendernode) s += `rendernode=${escapeComma(g.gl.rendernode)},`;
  }
  s += 'seamless-migration=on';
  cmd.arg('-spice', s);
  if (g.keymap) cmd.arg('-k', g.keymap);
}

export function buildGraphics(cmd: QemuCommand, state: BuildState): void {
  for (const g of state.def.devices.graphics) {
    switch (g.type) {
      case 'sdl': {
        if (g.xauth) cmd.setEnv('XAUTHORITY', g.xauth);
        if (g.display) cmd.setEnv('DISPLAY', g.display);
        if (g.fullscreen) cmd.arg('-full-screen');
        let s = 'sdl';
        if (g.gl?.enable !== undefined) s += `,gl=${g.gl.enable ? 'on' : 'off'}`;
        cmd.arg('-display', s);
        break;
      }
      case 'vnc':
        vnc(cmd, state, g);
        break;
      case 'spice':
        spice(cmd, state, g);
        break;
      case 'egl-headless': {
        let s = 'egl-headless';
        if (g.gl?.rendernode) s += `,rendernode=${escapeComma(g.gl.rendernode)}`;
        cmd.arg('-display', s);
        break;
      }
      case 'dbus': {
        let s = 'dbus';
        if (g.p2p) s += ',p2p=on';
        else s += `,addr=${escapeComma(g.dbusAddress ?? '')}`;
        if (g.gl?.enable !== undefined) s += `,gl=${g.gl.enable ? 'on' : 'off'}`;
        if (g.gl?.rendernode) s += `,rendernode=${escapeComma(g.gl.rendernode)}`;
        if (g.audioId) s += `,audiodev=${audioIdString(state.def, g.audioId)}`;
        cmd.arg('-display', s);
        break;
      }
      default:
        throw unsupported(`unsupported graphics type '${g.type}'`);
    }
  }
}

// ---------------------------------------------------------------- video

function supportsVideoVga(v: VideoDef, caps: QemuCapabilities): boolean {
  if (v.type === 'virtio') {
    if (v.backend === 'vhostuser') return caps.has('vhost-user-vga');
    return caps.has('virtio-vga');
  }
  return true;
}

/** qemuDeviceVideoGetModel. */
export function videoModel(v: VideoDef, caps: QemuCapabilities): { model: string; virtio: boolean; busSuffix: boolean } {
  const primaryVga = !!v.primary && supportsVideoVga(v, caps);
  const accel3d = v.accel?.accel3d === true;
  if (v.backend === 'vhostuser') return primaryVga ? { model: 'vhost-user-vga', virtio: false, busSuffix: false } : { model: 'vhost-user-gpu', virtio: true, busSuffix: true };
  if (primaryVga) {
    switch (v.type) {
      case 'vga': return { model: 'VGA', virtio: false, busSuffix: false };
      case 'cirrus': return { model: 'cirrus-vga', virtio: false, busSuffix: false };
      case 'vmvga': return { model: 'vmware-svga', virtio: false, busSuffix: false };
      case 'qxl': return { model: 'qxl-vga', virtio: false, busSuffix: false };
      case 'virtio': return { model: caps.has('virtio-vga-gl') && accel3d ? 'virtio-vga-gl' : 'virtio-vga', virtio: true, busSuffix: false };
      case 'bochs': return { model: 'bochs-display', virtio: false, busSuffix: false };
      case 'ramfb': return { model: 'ramfb', virtio: false, busSuffix: false };
      default: break;
    }
  } else {
    switch (v.type) {
      case 'qxl': return { model: 'qxl', virtio: false, busSuffix: false };
      case 'virtio': return { model: caps.has('virtio-gpu-gl-pci') && accel3d ? 'virtio-gpu-gl' : 'virtio-gpu', virtio: true, busSuffix: true };
      default: break;
    }
  }
  throw internal(`invalid model for video type '${v.type ?? ''}'`);
}

export function buildVideos(cmd: QemuCommand, state: BuildState): void {
  const { def, caps } = state;
  for (const v of def.devices.videos) {
    if (v.type === 'none') continue;
    const alias = v.info.alias ?? '';
    if (v.backend === 'vhostuser') {
      const fd = state.fakeFds?.vhostUserGpu;
      cmd.arg('-chardev', fd !== undefined ? `socket,id=chr-vu-${alias},fd=${fd}` : `socket,id=chr-vu-${alias},path=${escapeComma(`${state.libDir}/${alias}-vhost-user-gpu.sock`)}`);
    }
    const m = videoModel(v, caps);
    let o: JsonObject;
    if (m.virtio) {
      const base = m.busSuffix ? m.model : m.model;
      o = virtioDevProps(base, v.info, caps, undefined, v.virtio, m.busSuffix);
    } else o = props([['driver', m.model]]);
    let virgl: boolean | undefined;
    if (v.backend !== 'vhostuser' && v.type === 'virtio' && v.accel && caps.has('virtio-gpu.virgl')) virgl = v.accel.accel3d;
    const maxOutputs = v.type === 'qxl' || v.type === 'virtio' ? nz(v.heads) : undefined;
    addProps(o, [['id', alias], ['virgl', virgl], ['max_outputs', maxOutputs]]);
    if (v.type === 'qxl') {
      addProps(o, [['ram_size', nz((v.ram ?? 0) * 1024)], ['vram_size', nz((v.vram ?? 0) * 1024)]]);
      if (caps.has('qxl.vram64_size_mb')) o.vram64_size_mb = Math.floor((v.vram64 ?? 0) / 1024);
      if (caps.has('qxl.vgamem_mb')) o.vgamem_mb = Math.floor((v.vgamem ?? 0) / 1024);
    } else if (v.backend === 'vhostuser') {
      o.chardev = `chr-vu-${alias}`;
    } else if ((v.type === 'vga' && caps.has('VGA.vgamem_mb')) || (v.type === 'vmvga' && caps.has('vmware-svga.vgamem_mb'))) {
      addProps(o, [['vgamem_mb', nz(Math.floor((v.vram ?? 0) / 1024))]]);
    } else if (v.type === 'bochs') addProps(o, [['vgamem', nz((v.vram ?? 0) * 1024)]]);
    if (v.resolution) addProps(o, [['xres', nz(v.resolution.x)], ['yres', nz(v.resolution.y)]]);
    addAddressProps(o, def, v.info);
    cmd.arg('-device', toJson(o));
  }
}
