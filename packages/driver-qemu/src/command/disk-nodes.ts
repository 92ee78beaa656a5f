/**
 * The names of what a disk puts into QEMU (libvirt's
 * qemuDomainPrepareStorageSourceBlockdev and friends): image N of a
 * backing chain is the block nodes `libvirt-N-storage` (protocol),
 * `libvirt-N-slice-sto` (a slice) and `libvirt-N-format`, plus the objects
 * named after them (secrets, TLS credentials, a persistent-reservation
 * helper); a copy-on-read layer is `libvirt-CoR-<target>`. N is the
 * storage source's index, which the live XML keeps (`<source index>`,
 * `<backingStore index>`), so hot-unplug removes exactly what the start or
 * the hot-plug created.
 */
import type { DiskDef, StorageSource } from '@virtkit/core';
import type { QemuDriverConfig } from '../defaults/config.js';

export interface SourceNodeNames {
  storageNode: string;
  formatNode: string;
  sliceNode?: string;
}

/** Whether a source gets a node of its own for its slice (a raw image without encryption takes the offset in its format node). */
export function hasSliceNode(src: StorageSource): boolean {
  return !!src.slices?.length && (src.format !== 'raw' || !!src.encryption);
}

export function sourceNodeNames(id: number, src: StorageSource): SourceNodeNames {
  const names: SourceNodeNames = { storageNode: `libvirt-${id}-storage`, formatNode: `libvirt-${id}-format` };
  if (hasSliceNode(src)) names.sliceNode = `libvirt-${id}-slice-sto`;
  return names;
}

export const copyOnReadNodeName = (dst: string): string => `libvirt-CoR-${dst}`;
export const encryptionSecretAlias = (formatNode: string, i: number): string => `${formatNode}-encryption-secret${i}`;
export const authSecretAlias = (storageNode: string): string => `${storageNode}-auth-secret0`;
export const tlsObjectAlias = (storageNode: string): string => `obj${storageNode}_tls0`;
export const tlsKeySecretAlias = (tlsAlias: string): string => `${tlsAlias}-secret0`;
export const prHelperAlias = (storageNode: string): string => `pr-helper-${storageNode}`;

/** The images of a chain, top first. */
export function sourceChain(src: StorageSource): StorageSource[] {
  const out: StorageSource[] = [];
  for (let n: StorageSource | null | undefined = src; n; n = n.backingStore) out.push(n);
  return out;
}

/** Which TLS objects a network source gets (prepareSourceTls). */
function tlsAliases(src: StorageSource, storageNode: string, cfg: Partial<QemuDriverConfig>): string[] {
  if (src.type !== 'network') return [];
  if (src.protocol === 'nbd' && (src.tls ?? cfg.nbdTLS)) {
    const alias = tlsObjectAlias(storageNode);
    return cfg.nbdTLSx509secretUUID ? [alias, tlsKeySecretAlias(alias)] : [alias];
  }
  if (src.protocol === 'vxhs' && (src.tls ?? cfg.vxhsTLS)) return [tlsObjectAlias(storageNode)];
  return [];
}

/** The objects one image of a disk needs (sourceDependencies' order). */
function sourceObjects(src: StorageSource, names: SourceNodeNames, top: boolean, cfg: Partial<QemuDriverConfig>): string[] {
  const out: string[] = [];
  const res = src.reservations;
  // The managed helper is one for the whole domain: it stays.
  if (top && res && res.enabled !== false && !res.managed) out.push(prHelperAlias(names.storageNode));
  if (src.auth && src.type === 'network') out.push(authSecretAlias(names.storageNode));
  const enc = src.encryption;
  if (enc && (enc.engine === 'librbd' || enc.format === 'luks' || enc.format === 'qcow')) {
    enc.secrets.forEach((_s, i) => out.push(encryptionSecretAlias(names.formatNode, i)));
  }
  out.push(...tlsAliases(src, names.storageNode, cfg));
  return out;
}

export interface DiskRemoval {
  /** Block nodes in an order `blockdev-del` accepts: a node before the nodes under it. */
  nodes: string[];
  /** Objects (`object-del`) once the nodes are gone. */
  objects: string[];
}

/**
 * What removing a disk from a running QEMU deletes (libvirt's
 * qemuBlockStorageSourceChainDetach plus the copy-on-read layer): the
 * copy-on-read node, then each image from the top down (format, slice,
 * storage), then the objects the images used. An image without a recorded
 * index is numbered on from the image above it (`topIndex` for the top),
 * as the builder numbers a chain; without either it is left out.
 */
export function diskRemovalNames(disk: DiskDef, opts: { topIndex?: number; config?: Partial<QemuDriverConfig> } = {}): DiskRemoval {
  const out: DiskRemoval = { nodes: [], objects: [] };
  if (disk.src.type === 'vhostuser') return out;
  if (disk.driver.copyOnRead === true) out.nodes.push(copyOnReadNodeName(disk.dst));
  let next = opts.topIndex;
  sourceChain(disk.src).forEach((src, depth) => {
    const id = src.index ?? next;
    if (id === undefined) return;
    next = id + 1;
    const names = sourceNodeNames(id, src);
    out.nodes.push(names.formatNode);
    if (names.sliceNode) out.nodes.push(names.sliceNode);
    out.nodes.push(names.storageNode);
    out.objects.push(...sourceObjects(src, names, depth === 0, opts.config ?? {}));
  });
  return out;
}
