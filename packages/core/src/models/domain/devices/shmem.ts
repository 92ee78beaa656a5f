/** <shmem>: inter-VM shared memory (ivshmem). */
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { parseScaled } from '../../../xml/values.js';
import { ElemReader, xmlError } from '../reader.js';
import { oo } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';

export interface ShmemDef {
  name: string;
  role?: 'master' | 'peer';
  model: string;
  /** Bytes. */
  size?: number;
  server?: { path?: string };
  msi?: { vectors?: number; ioeventfd?: boolean };
  info: DeviceInfo;
}

export function parseShmem(el: XmlElement, ctx: ParseContext): ShmemDef {
  const r = new ElemReader(el, '<shmem>');
  const name = r.str('name');
  if (!name) throw xmlError('<shmem>', "shmem element must contain 'name' attribute");
  const def: ShmemDef = { name, model: 'ivshmem', info: {} };
  const role = r.enum('role', ['default', 'master', 'peer'] as const);
  if (role && role !== 'default') def.role = role;
  const m = r.child('model');
  if (m) {
    const t = new ElemReader(m, '<shmem><model>').enum('type', ['ivshmem', 'ivshmem-plain', 'ivshmem-doorbell'] as const);
    if (!t) throw xmlError('<shmem>', 'Unknown shmem model type');
    def.model = t;
  }
  const size = r.child('size');
  if (size) {
    const bytes = parseScaled(size.text().trim(), size.attr('unit'), '<shmem><size>', 1n << 20n);
    if (bytes & (bytes - 1n)) throw xmlError('<shmem>', 'shmem size must be a power of two');
    def.size = Number(bytes);
  }
  const server = r.child('server');
  if (server) {
    def.server = {};
    const p = server.attr('path');
    if (p !== undefined) def.server.path = p;
  }
  const msi = r.child('msi');
  if (msi) {
    const mr = new ElemReader(msi, '<shmem><msi>');
    def.msi = {};
    const v = mr.uint('vectors');
    if (v !== undefined) def.msi.vectors = v;
    const io = mr.onOff('ioeventfd');
    if (io !== undefined) def.msi.ioeventfd = io;
  }
  def.info = parseDeviceInfo(r, ctx);
  return def;
}

export function formatShmem(w: XmlWriter, def: ShmemDef, ctx: FormatContext): void {
  w.open('shmem', [['name', def.name], ['role', def.role]]);
  w.empty('model', [['type', def.model]]);
  if (def.size) w.text('size', Math.floor(def.size / 1048576), [['unit', 'M']]);
  if (def.server) w.empty('server', [['path', def.server.path]]);
  if (def.msi) w.empty('msi', [['vectors', def.msi.vectors], ['ioeventfd', oo(def.msi.ioeventfd)]]);
  formatDeviceInfo(w, def.info, ctx);
  w.close('shmem');
}
