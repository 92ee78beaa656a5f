/**
 * Per-start state of the command-line generator (libvirt keeps it in the
 * domain's private data): node names of storage sources, secret objects,
 * descriptor sets, chardev backends.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import type { ChrSourceDef, DomainDef, SecretRef, StorageSource } from '@virtkit/core';
import type { QemuCapabilities } from '../caps/index.js';
import type { QemuDriverConfig } from '../defaults/config.js';
import type { QemuCommandOptions, QemuFakeFds } from './options.js';

/** A secret object QEMU decrypts with the master key. */
export interface SecretInfo {
  alias: string;
  /** base64 ciphertext, or the plain value when no master key is known. */
  ciphertext: string;
  iv: string;
  username?: string;
}

/** A set of descriptors passed with -add-fd (qemuFDPass). */
export interface FdPass {
  set: number;
  fds: Array<{ fd: number; opaque: string }>;
}

export function fdPassPath(p: FdPass): string {
  return `/dev/fdset/${p.set}`;
}

/** What libvirt keeps in a storage source's private data. */
export interface SourcePriv {
  id: number;
  storageNode: string;
  formatNode: string;
  sliceNode?: string;
  authSecret?: SecretInfo;
  encSecrets?: SecretInfo[];
  tlsAlias?: string;
  tlsCertdir?: string;
  tlsKeySecret?: SecretInfo;
  fdpass?: FdPass;
  /** Persistent reservations helper: its alias, and the socket of an unmanaged one (managed helpers are one per domain). */
  prManager?: { alias: string; path?: string };
  fdWritable?: boolean;
  /** Properties copied from the disk (qemuDomainPrepareDiskSourceData). */
  readonly: boolean;
  shared: boolean;
  cachemode?: string;
  discard?: string;
  detectZeroes?: string;
  iomode?: string;
  floppyimg?: boolean;
  hostcdrom?: boolean;
  debugLevel?: number;
}

/** What libvirt keeps in a chardev source's private data. */
export interface ChrPriv {
  /** fd=N instead of a socket path. */
  directFd?: number;
  sourceFd?: FdPass;
  logFd?: FdPass;
  wait?: boolean;
  tlsCertPath?: string;
  tlsVerify?: boolean;
  tlsSecret?: SecretInfo;
  tlsCredsAlias?: string;
}

export class BuildState {
  readonly src = new Map<StorageSource, SourcePriv>();
  readonly chr = new Map<ChrSourceDef, ChrPriv>();
  fdsetIndex = 0;
  nodeIndex = 0;
  /** The next stand-in descriptors of tap and vhost-net devices. */
  nextTapFd: number;
  nextVhostFd: number;
  readonly fakeFds: QemuFakeFds | undefined;
  /** Copy-on-read layer node names by disk target. */
  readonly corNodes = new Map<string, string>();
  /** Graphics TLS secret/alias. */
  vncTlsAlias?: string;
  vncTlsSecret?: SecretInfo;

  constructor(
    readonly def: DomainDef,
    readonly caps: QemuCapabilities,
    readonly cfg: QemuDriverConfig,
    readonly opts: QemuCommandOptions,
  ) {
    this.fakeFds = opts.fakeFds;
    this.nextTapFd = opts.fakeFds?.tapStart ?? 3;
    this.nextVhostFd = opts.fakeFds?.vhostNetStart ?? 44;
  }

  get domainId(): number {
    return this.opts.domainId ?? -1;
  }

  /** virDomainDefGetShortName: "<id>-<first 20 chars of the name>". */
  get shortName(): string {
    return `${this.domainId}-${[...this.def.name].slice(0, 20).join('')}`;
  }

  /** The domain's private directory (HOME, master key, sockets). */
  get libDir(): string {
    return `${this.cfg.libDir}/domain-${this.shortName}`;
  }

  newFdPass(): FdPass {
    return { set: this.fdsetIndex++, fds: [] };
  }

  srcPriv(src: StorageSource): SourcePriv | undefined {
    return this.src.get(src);
  }

  chrPriv(src: ChrSourceDef): ChrPriv {
    let p = this.chr.get(src);
    if (!p) {
      p = {};
      this.chr.set(src, p);
    }
    return p;
  }

  /** Builds an encrypted secret object (qemuDomainSecretAESSetup). */
  secret(alias: string, value: string, username?: string): SecretInfo {
    const key = this.opts.masterKey;
    const iv = this.opts.secretIv ? this.opts.secretIv() : new Uint8Array(randomBytes(16));
    let ciphertext: string;
    if (key) {
      const c = createCipheriv('aes-256-cbc', key, iv);
      ciphertext = Buffer.concat([c.update(Buffer.from(value, 'utf8')), c.final()]).toString('base64');
    } else ciphertext = Buffer.from(value, 'utf8').toString('base64');
    const s: SecretInfo = { alias, ciphertext, iv: Buffer.from(iv).toString('base64') };
    if (username !== undefined) s.username = username;
    return s;
  }

  lookupSecret(ref: SecretRef, usageType: string): string {
    if (this.opts.lookupSecret) return this.opts.lookupSecret(ref, usageType);
    return '';
  }
}
