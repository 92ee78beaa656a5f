import { VirtError } from '@virtkit/core';

/** What `qemu-img info --output=json` says about an image (the fields virtkit uses). */
export interface QemuImgInfo {
  filename: string;
  format: string;
  /** Guest-visible size in bytes. */
  virtualSize: bigint;
  /** Bytes the image occupies on the host, when qemu-img could tell. */
  actualSize?: bigint;
  clusterSize?: number;
  dirty: boolean;
  encrypted: boolean;
  backingFilename?: string;
  backingFilenameFormat?: string;
  fullBackingFilename?: string;
  /** qcow2 format details. */
  compat?: string;
  lazyRefcounts?: boolean;
  extendedL2?: boolean;
  /** The next image of the chain, with --backing-chain. */
  backing?: QemuImgInfo;
  /** The whole object as qemu-img printed it. */
  raw: Record<string, unknown>;
}

function bad(message: string): VirtError {
  return new VirtError('PARSE_FAILED', `qemu-img info output: ${message}`, { origin: 'storage' });
}

/** A size field; big values arrive as digit strings (see quoteBigSizes). */
function bigField(key: string, value: unknown): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^[0-9]+$/.test(value)) return BigInt(value);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw bad(`'${key}' is not a size`);
  return BigInt(value);
}

/** JSON numbers above 2^53 would be rounded: read long size values as strings instead. */
function quoteBigSizes(text: string): string {
  return text.replace(/("(?:virtual-size|actual-size)"\s*:\s*)([0-9]{16,})/g, '$1"$2"');
}

function one(obj: Record<string, unknown>): QemuImgInfo {
  if (typeof obj.filename !== 'string' || typeof obj.format !== 'string') throw bad("missing 'filename' or 'format'");
  const virtualSize = bigField('virtual-size', obj['virtual-size']);
  if (virtualSize === undefined) throw bad("missing 'virtual-size'");
  const info: QemuImgInfo = {
    filename: obj.filename,
    format: obj.format,
    virtualSize,
    dirty: obj['dirty-flag'] === true,
    encrypted: obj.encrypted === true,
    raw: obj,
  };
  const actual = bigField('actual-size', obj['actual-size']);
  if (actual !== undefined) info.actualSize = actual;
  if (typeof obj['cluster-size'] === 'number') info.clusterSize = obj['cluster-size'];
  if (typeof obj['backing-filename'] === 'string') info.backingFilename = obj['backing-filename'];
  if (typeof obj['backing-filename-format'] === 'string') info.backingFilenameFormat = obj['backing-filename-format'];
  if (typeof obj['full-backing-filename'] === 'string') info.fullBackingFilename = obj['full-backing-filename'];
  const specific = obj['format-specific'] as { type?: string; data?: Record<string, unknown> } | undefined;
  if (specific?.type === 'qcow2' && specific.data) {
    if (typeof specific.data.compat === 'string') info.compat = specific.data.compat;
    if (typeof specific.data['lazy-refcounts'] === 'boolean') info.lazyRefcounts = specific.data['lazy-refcounts'];
    if (typeof specific.data['extended-l2'] === 'boolean') info.extendedL2 = specific.data['extended-l2'];
  }
  return info;
}

/**
 * Parses `qemu-img info --output=json` (one object, or with
 * --backing-chain an array from the top image down).
 */
export function parseQemuImgInfo(json: string): QemuImgInfo {
  let data: unknown;
  try {
    data = JSON.parse(quoteBigSizes(json));
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(data) ? data : [data];
  if (list.length === 0 || list.some((x) => !x || typeof x !== 'object' || Array.isArray(x))) throw bad('expected an object');
  const infos = list.map((x) => one(x as Record<string, unknown>));
  for (let i = 0; i + 1 < infos.length; i++) infos[i]!.backing = infos[i + 1];
  return infos[0]!;
}
