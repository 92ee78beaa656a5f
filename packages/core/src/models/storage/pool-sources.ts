import { parseXml, type XmlParseLimits } from '../../xml/parse.js';
import { XmlWriter } from '../../xml/write.js';
import { parsePoolSource, writePoolSource, type StoragePoolSource } from './pool-source.js';
import type { StoragePoolType } from './types.js';
import { storageError } from './xpath.js';

/**
 * The <sources> list `virsh find-storage-pool-sources` prints, and the
 * <source> specification it takes as input.
 */
export interface StoragePoolSourceList {
  type: StoragePoolType;
  sources: StoragePoolSource[];
}

/** virStoragePoolDefParseSourceString: a lone <source> element read for a pool type. */
export function parseStoragePoolSourceXml(xml: string, type: StoragePoolType, limits: XmlParseLimits = {}): StoragePoolSource {
  const root = parseXml(xml, 'storage pool source XML', limits);
  if (root.name !== 'source') {
    throw storageError('XML_ERROR', 'storage pool source XML', `unexpected root element <${root.name}>, expecting <source>`);
  }
  return parsePoolSource(root, type, `${type} storage pool source`);
}

/** Reads a <sources> list back (each <source> as the pool type reads it). */
export function parseStoragePoolSourceListXml(xml: string, type: StoragePoolType, limits: XmlParseLimits = {}): StoragePoolSourceList {
  const root = parseXml(xml, 'storage pool sources XML', limits);
  if (root.name !== 'sources') {
    throw storageError('XML_ERROR', 'storage pool sources XML', `unexpected root element <${root.name}>, expecting <sources>`);
  }
  return { type, sources: root.elements('source').map((s) => parsePoolSource(s, type, `${type} storage pool source`)) };
}

/** virStoragePoolSourceListFormat. */
export function formatStoragePoolSourceListXml(list: StoragePoolSourceList): string {
  const w = new XmlWriter();
  w.open('sources');
  for (const s of list.sources) writePoolSource(w, list.type, s);
  w.close('sources');
  return w.toString();
}
