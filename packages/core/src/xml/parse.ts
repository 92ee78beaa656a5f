import type { XmlElement } from './tree.js';
import { scanXml } from './scan.js';

export interface XmlParseLimits {
  /** Largest document accepted, in bytes (UTF-16 code units). libvirt's virsh reads at most 10 MiB. */
  maxBytes?: number;
  /** Deepest element nesting accepted. */
  maxDepth?: number;
  /** Most elements accepted in one document. */
  maxElements?: number;
}

export const DEFAULT_XML_LIMITS: Required<XmlParseLimits> = {
  maxBytes: 10 * 1024 * 1024,
  maxDepth: 128,
  maxElements: 200_000,
};

/**
 * Parses an XML document into an XmlElement tree. Refuses DTDs (and with
 * them every entity expansion attack), undefined entities, documents larger
 * or deeper than the limits, several root elements and anything malformed,
 * always with a VirtError XML_ERROR that says where and what.
 *
 * `what` names the document in messages ("domain XML", "network 'default'").
 */
export function parseXml(xml: string, what = 'XML document', limits: XmlParseLimits = {}): XmlElement {
  return scanXml(xml, what, limits);
}
