import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { parseUuid } from '../../xml/values.js';
import { STORAGE_AUTH_TYPES, type StorageAuthType } from './types.js';
import { storageError, xpathAttr } from './xpath.js';

/** A <secret> reference: by UUID or by usage name, never both. */
export type StorageSecretLookup = { uuid: string; usage?: undefined } | { usage: string; uuid?: undefined };

/** virSecretLookupParseSecret. */
export function parseStorageSecretLookup(el: XmlElement, what: string): StorageSecretLookup {
  const uuid = el.attr('uuid');
  const usage = el.attr('usage');
  if (uuid === undefined && usage === undefined) throw storageError('XML_ERROR', what, 'missing secret uuid or usage attribute');
  if (uuid !== undefined && usage !== undefined) throw storageError('XML_ERROR', what, 'either secret uuid or usage expected');
  if (uuid !== undefined) {
    try {
      return { uuid: parseUuid(uuid) };
    } catch {
      throw storageError('XML_ERROR', what, `invalid secret uuid '${uuid}'`);
    }
  }
  return { usage: usage! };
}

/** virSecretLookupFormatSecret. */
export function writeStorageSecretLookup(w: XmlWriter, type: string | undefined, s: StorageSecretLookup): void {
  w.empty('secret', [
    ['type', type],
    ['uuid', s.uuid],
    ['usage', s.usage],
  ]);
}

/** <auth> of a pool source (CHAP for iSCSI, cephx for RBD). */
export interface StorageAuth {
  type?: StorageAuthType;
  username: string;
  /** The <secret type=…> attribute, kept as written. */
  secretType?: string;
  secret: StorageSecretLookup;
}

/** virStorageAuthDefParse. */
export function parseStorageAuth(el: XmlElement, what: string): StorageAuth {
  const username = xpathAttr(el, '', 'username');
  if (username === undefined) throw storageError('XML_ERROR', what, 'missing username for auth');
  const type = xpathAttr(el, '', 'type');
  if (type !== undefined && !(STORAGE_AUTH_TYPES as readonly string[]).includes(type)) {
    throw storageError('CONFIG_UNSUPPORTED', what, `unknown auth type '${type}'`);
  }
  const secretEl = el.child('secret');
  if (!secretEl) throw storageError('XML_ERROR', what, 'missing <secret> element in auth');
  const auth: StorageAuth = { username, secret: parseStorageSecretLookup(secretEl, what) };
  if (type !== undefined) auth.type = type as StorageAuthType;
  const secretType = secretEl.attr('type');
  if (secretType !== undefined) auth.secretType = secretType;
  return auth;
}

/** virStorageAuthDefFormat. */
export function writeStorageAuth(w: XmlWriter, a: StorageAuth): void {
  w.open('auth', [
    ['type', a.type],
    ['username', a.username],
  ]);
  writeStorageSecretLookup(w, a.secretType, a.secret);
  w.close('auth');
}
