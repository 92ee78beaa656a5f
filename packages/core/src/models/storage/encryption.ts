import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { parseStorageSecretLookup, writeStorageSecretLookup, type StorageSecretLookup } from './secret.js';
import {
  STORAGE_ENCRYPTION_ENGINES,
  STORAGE_ENCRYPTION_FORMATS,
  type StorageEncryptionEngine,
  type StorageEncryptionFormat,
} from './types.js';
import { propInteger, storageError, xpathAttr } from './xpath.js';

export interface StorageEncryptionSecret {
  /** Always 'passphrase' today. */
  type: 'passphrase';
  lookup: StorageSecretLookup;
}

/** <cipher>/<ivgen> of a LUKS volume. */
export interface StorageEncryptionInfo {
  cipherName: string;
  cipherSize: number;
  cipherMode?: string;
  cipherHash?: string;
  ivgenName?: string;
  ivgenHash?: string;
}

/** <encryption> of a volume (storage_encryption_conf.c). */
export interface StorageEncryption {
  format: StorageEncryptionFormat;
  engine?: StorageEncryptionEngine;
  secrets: StorageEncryptionSecret[];
  info?: StorageEncryptionInfo;
}

function parseSecret(el: XmlElement, what: string): StorageEncryptionSecret {
  const type = xpathAttr(el, '', 'type');
  if (type === undefined) throw storageError('XML_ERROR', what, 'unknown volume encryption secret type');
  if (type !== 'passphrase') throw storageError('CONFIG_UNSUPPORTED', what, `unknown volume encryption secret type ${type}`);
  return { type, lookup: parseStorageSecretLookup(el, what) };
}

/** virStorageEncryptionParseNode. */
export function parseStorageEncryption(el: XmlElement, what: string): StorageEncryption {
  const format = xpathAttr(el, '', 'format');
  if (format === undefined) throw storageError('XML_ERROR', what, 'unknown volume encryption format');
  if (!(STORAGE_ENCRYPTION_FORMATS as readonly string[]).includes(format)) {
    throw storageError('CONFIG_UNSUPPORTED', what, `unknown volume encryption format type ${format}`);
  }
  const enc: StorageEncryption = { format: format as StorageEncryptionFormat, secrets: [] };
  const engine = el.attr('engine');
  if (engine !== undefined) {
    if (!(STORAGE_ENCRYPTION_ENGINES as readonly string[]).includes(engine)) {
      throw storageError('XML_ERROR', what, `invalid value for attribute 'engine' in element 'encryption': '${engine}'`);
    }
    enc.engine = engine as StorageEncryptionEngine;
  }
  for (const s of el.elements('secret')) enc.secrets.push(parseSecret(s, what));

  if (enc.format === 'luks') {
    const cipher = el.child('cipher');
    let info: StorageEncryptionInfo | undefined;
    if (cipher) {
      const name = cipher.attr('name');
      if (name === undefined) throw storageError('XML_ERROR', what, "cipher info missing 'name' attribute");
      info = { cipherName: name, cipherSize: propInteger(cipher, 'size', what, { required: true })! };
      const mode = cipher.attr('mode');
      if (mode !== undefined) info.cipherMode = mode;
      const hash = cipher.attr('hash');
      if (hash !== undefined) info.cipherHash = hash;
    }
    const ivgen = el.child('ivgen');
    if (ivgen) {
      if (!info) throw storageError('XML_ERROR', what, 'ivgen element found, but cipher is missing');
      const name = ivgen.attr('name');
      if (name === undefined) throw storageError('XML_ERROR', what, 'missing ivgen info name string');
      info.ivgenName = name;
      const hash = ivgen.attr('hash');
      if (hash !== undefined) info.ivgenHash = hash;
    }
    if (info) enc.info = info;
  }
  return enc;
}

/** virStorageEncryptionFormat. */
export function writeStorageEncryption(w: XmlWriter, enc: StorageEncryption): void {
  w.open('encryption', [
    ['format', enc.format],
    ['engine', enc.engine],
  ]);
  for (const s of enc.secrets) writeStorageSecretLookup(w, s.type, s.lookup);
  const info = enc.info;
  if (enc.format === 'luks' && info) {
    w.empty('cipher', [
      ['name', info.cipherName],
      ['size', info.cipherSize],
      ['mode', info.cipherMode],
      ['hash', info.cipherHash],
    ]);
    if (info.ivgenName !== undefined) {
      w.empty('ivgen', [
        ['name', info.ivgenName],
        ['hash', info.ivgenHash],
      ]);
    }
  }
  w.close('encryption');
}
