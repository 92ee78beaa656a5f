/** <tpm>: TPM devices (passthrough, emulator (swtpm), external). */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { parseUuid } from '../../../xml/values.js';
import { ElemReader, xmlError } from '../reader.js';
import { writeEl, yn, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatChrSource, parseChrSource, type ChrSourceDef } from './chardev.js';

export const TPM_MODELS = ['default', 'tpm-tis', 'tpm-crb', 'tpm-spapr', 'spapr-tpm-proxy'] as const;
const PCR_BANKS = ['sha1', 'sha256', 'sha384', 'sha512'] as const;

export interface TpmDef {
  model?: string;
  backend: 'passthrough' | 'emulator' | 'external';
  /** passthrough device path. */
  devicePath?: string;
  version?: string;
  persistentState?: boolean;
  encryptionSecret?: string;
  activePcrBanks?: string[];
  /** external: socket. */
  source?: ChrSourceDef;
  info: DeviceInfo;
  kept?: KeptXml;
  backendKept?: KeptXml;
}

export function parseTpm(el: XmlElement, ctx: ParseContext): TpmDef {
  const r = new ElemReader(el, '<tpm>');
  const model = r.enum('model', TPM_MODELS);
  const be = r.child('backend');
  if (!be) throw xmlError('<tpm>', 'missing TPM device backend');
  const br = new ElemReader(be, '<tpm><backend>');
  const backend = br.enum('type', ['passthrough', 'emulator', 'external'] as const);
  if (!backend) throw xmlError('<tpm>', 'missing or unknown TPM backend type');
  const def: TpmDef = { backend, info: {} };
  if (model && model !== 'default') def.model = model;
  const version = br.enum('version', ['default', '1.2', '2.0'] as const);
  if (version && version !== 'default') def.version = version;
  if (backend === 'passthrough') {
    const d = br.child('device');
    def.devicePath = d?.attr('path') ?? '/dev/tpm0';
  } else if (backend === 'emulator') {
    const ps = br.yesNo('persistent_state');
    if (ps !== undefined) def.persistentState = ps;
    const enc = br.child('encryption');
    if (enc) {
      const sec = enc.attr('secret');
      if (!sec) throw xmlError('<tpm>', 'missing secret uuid for TPM encryption');
      def.encryptionSecret = parseUuid(sec, '<tpm><encryption> secret');
    }
    const banks = br.child('active_pcr_banks');
    if (banks) {
      def.activePcrBanks = [];
      for (const b of banks.elements()) {
        if (!(PCR_BANKS as readonly string[]).includes(b.name)) throw xmlError('<tpm>', `Unsupported PCR banks '${b.name}'`);
        def.activePcrBanks.push(b.name);
      }
    }
  } else {
    const src = br.child('source');
    if (!src) throw xmlError('<tpm>', 'missing external TPM backend source');
    def.source = parseChrSource(new ElemReader(be, '<tpm><backend>'), src.attr('type') ?? 'unix', ctx, '<tpm><backend>');
    if (!def.source.path) throw xmlError('<tpm>', 'missing external TPM backend source path');
  }
  const bk = br.kept();
  if (bk) def.backendKept = bk;
  def.info = parseDeviceInfo(r, ctx);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatTpm(w: XmlWriter, def: TpmDef, ctx: FormatContext): void {
  writeEl(w, 'tpm', [['model', def.model]], (c) => {
    const ba: AttrList = [['type', def.backend]];
    if (def.backend === 'emulator') ba.push(['version', def.version], ['persistent_state', def.persistentState ? 'yes' : undefined]);
    writeEl(c, 'backend', ba, (b) => {
      if (def.backend === 'passthrough') b.empty('device', [['path', def.devicePath]]);
      if (def.encryptionSecret) b.empty('encryption', [['secret', def.encryptionSecret]]);
      if (def.activePcrBanks && def.activePcrBanks.length) {
        b.open('active_pcr_banks');
        for (const bank of PCR_BANKS) if (def.activePcrBanks.includes(bank)) b.empty(bank);
        b.close('active_pcr_banks');
      }
      if (def.source) {
        b.empty('source', [['type', 'unix'], ['mode', 'connect'], ['path', def.source.path]]);
      }
    }, def.backendKept, true);
    formatDeviceInfo(c, def.info, ctx);
  }, def.kept, true);
}
export { yn };
