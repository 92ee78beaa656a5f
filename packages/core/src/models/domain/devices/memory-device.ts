/** <memory> devices: DIMMs, NVDIMMs, virtio-pmem, virtio-mem, SGX EPC. Sizes in KiB. */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { formatIdList, parseIdList, parseUuid } from '../../../xml/values.js';
import { ElemReader, readScaledKiB, xmlError } from '../reader.js';
import { writeEl, yn, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';

export const MEMORY_MODELS = ['dimm', 'nvdimm', 'virtio-pmem', 'virtio-mem', 'sgx-epc'] as const;

export interface MemoryDeviceDef {
  model: (typeof MEMORY_MODELS)[number];
  access?: 'shared' | 'private';
  discard?: boolean;
  uuid?: string;
  pagesize?: number;
  nodemask?: number[];
  path?: string;
  alignsize?: number;
  pmem?: boolean;
  size: number;
  targetNode?: number;
  labelSize?: number;
  readonly?: boolean;
  blockSize?: number;
  requestedSize?: number;
  currentSize?: number;
  info: DeviceInfo;
  kept?: KeptXml;
}

export function parseMemoryDevice(el: XmlElement, ctx: ParseContext): MemoryDeviceDef {
  const r = new ElemReader(el, '<memory>');
  const model = r.enum('model', MEMORY_MODELS);
  if (!model) throw xmlError('<memory>', r.has('model') ? `invalid memory model '${el.attr('model')}'` : 'missing memory model');
  const where = `memory model='${model}'`;
  const def: MemoryDeviceDef = { model, size: 0, info: {} };
  const access = r.enum('access', ['default', 'shared', 'private'] as const);
  if (access && access !== 'default') def.access = access;
  const discard = r.yesNo('discard');
  if (discard !== undefined) def.discard = discard;
  const uuid = r.childTrimmed('uuid');
  if (uuid !== undefined && model === 'nvdimm') def.uuid = parseUuid(uuid, `${where} <uuid>`);
  const src = r.child('source');
  if (src) {
    const sr = new ElemReader(src, `${where} <source>`);
    const ps = sr.child('pagesize');
    if (ps) def.pagesize = readScaledKiB(ps, `${where} <pagesize>`);
    const nm = sr.childTrimmed('nodemask');
    if (nm !== undefined) def.nodemask = parseIdList(nm, `${where} <nodemask>`);
    const path = sr.childTrimmed('path');
    if (path !== undefined) def.path = path;
    const al = sr.child('alignsize');
    if (al) def.alignsize = readScaledKiB(al, `${where} <alignsize>`);
    if (sr.child('pmem')) def.pmem = true;
  }
  if ((model === 'nvdimm' || model === 'virtio-pmem') && !def.path) throw xmlError(where, 'path is required for model \'' + model + '\'');
  const t = r.child('target');
  if (!t) throw xmlError(where, 'missing <target> element for <memory> device');
  const tr = new ElemReader(t, `${where} <target>`);
  const size = tr.child('size');
  if (size) def.size = readScaledKiB(size, `${where} <size>`) ?? 0;
  const node = tr.childTrimmed('node');
  if (node !== undefined) {
    if (!/^[0-9]+$/.test(node)) throw xmlError(where, 'invalid value of memory device node');
    def.targetNode = Number(node);
  }
  const label = tr.child('label');
  if (label) {
    const ls = label.child('size');
    if (ls) def.labelSize = readScaledKiB(ls, `${where} <label><size>`);
  }
  if (tr.child('readonly')) def.readonly = true;
  const block = tr.child('block');
  if (block) def.blockSize = readScaledKiB(block, `${where} <block>`);
  const req = tr.child('requested');
  if (req) def.requestedSize = readScaledKiB(req, `${where} <requested>`);
  const cur = tr.child('current');
  if (cur && !ctx.inactive) def.currentSize = readScaledKiB(cur, `${where} <current>`);
  if (model !== 'sgx-epc' && def.size === 0 && model !== 'virtio-mem') throw xmlError(where, 'missing memory device size');
  def.info = parseDeviceInfo(r, ctx);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatMemoryDevice(w: XmlWriter, def: MemoryDeviceDef, ctx: FormatContext): void {
  const a: AttrList = [['model', def.model], ['access', def.access], ['discard', yn(def.discard)]];
  writeEl(w, 'memory', a, (c) => {
    if (def.uuid) c.text('uuid', def.uuid);
    c.element('source', [], (s) => {
      if (def.nodemask) s.text('nodemask', formatIdList(def.nodemask));
      if (def.pagesize) s.text('pagesize', def.pagesize, [['unit', 'KiB']]);
      if (def.path) s.text('path', def.path);
      if (def.alignsize) s.text('alignsize', def.alignsize, [['unit', 'KiB']]);
      if (def.pmem) s.empty('pmem');
    });
    c.open('target');
    c.text('size', def.size, [['unit', 'KiB']]);
    if (def.targetNode !== undefined) c.text('node', def.targetNode);
    if (def.labelSize) {
      c.open('label');
      c.text('size', def.labelSize, [['unit', 'KiB']]);
      c.close('label');
    }
    if (def.readonly) c.empty('readonly');
    if (def.blockSize) {
      c.text('block', def.blockSize, [['unit', 'KiB']]);
      c.text('requested', def.requestedSize ?? 0, [['unit', 'KiB']]);
      if (!ctx.inactive && def.currentSize !== undefined) c.text('current', def.currentSize, [['unit', 'KiB']]);
    }
    c.close('target');
    formatDeviceInfo(c, def.info, ctx);
  }, def.kept, true);
}
