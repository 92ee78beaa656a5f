import { VirtError } from '@virtkit/core';
import { RpcClient, XdrReader, XdrWriter, portmapGetPort } from './onc-rpc.js';

const MOUNT_PROG = 100005;
const NFS_PROG = 100003;

/** NFSv3 status names (RFC 1813) for error messages. */
const NFS3_ERRORS: Record<number, string> = {
  1: 'NFS3ERR_PERM', 2: 'NFS3ERR_NOENT', 5: 'NFS3ERR_IO', 6: 'NFS3ERR_NXIO', 13: 'NFS3ERR_ACCES', 17: 'NFS3ERR_EXIST',
  18: 'NFS3ERR_XDEV', 19: 'NFS3ERR_NODEV', 20: 'NFS3ERR_NOTDIR', 21: 'NFS3ERR_ISDIR', 22: 'NFS3ERR_INVAL', 27: 'NFS3ERR_FBIG',
  28: 'NFS3ERR_NOSPC', 30: 'NFS3ERR_ROFS', 63: 'NFS3ERR_NAMETOOLONG', 66: 'NFS3ERR_NOTEMPTY', 69: 'NFS3ERR_DQUOT',
  70: 'NFS3ERR_STALE', 10001: 'NFS3ERR_BADHANDLE', 10004: 'NFS3ERR_NOTSUPP', 10006: 'NFS3ERR_SERVERFAULT',
};

export const NFS3ERR_NOENT = 2;
export const NFS3ERR_EXIST = 17;

export class NfsError extends VirtError {
  constructor(readonly status: number, what: string) {
    super(status === NFS3ERR_NOENT ? 'NO_STORAGE_VOL' : 'OPERATION_FAILED', `${what}: ${NFS3_ERRORS[status] ?? `NFS status ${status}`}`, { origin: 'storage.netfs' });
  }
}

/** NFSv3 file attributes (fattr3), the fields virtkit reads. */
export interface NfsAttrs {
  /** 1 regular file, 2 directory, 3 block, 4 char, 5 link, 6 socket, 7 fifo. */
  type: number;
  mode: number;
  uid: number;
  gid: number;
  size: bigint;
  /** Bytes the server really uses for the file. */
  used: bigint;
  atime: { sec: bigint; nsec: number };
  mtime: { sec: bigint; nsec: number };
  ctime: { sec: bigint; nsec: number };
}

function readAttrs(r: XdrReader): NfsAttrs {
  const type = r.u32();
  const mode = r.u32();
  r.u32(); // nlink
  const uid = r.u32();
  const gid = r.u32();
  const size = r.u64();
  const used = r.u64();
  r.skip(8 + 8 + 8); // rdev, fsid, fileid
  const time = () => ({ sec: BigInt(r.u32()), nsec: r.u32() });
  return { type, mode, uid, gid, size, used, atime: time(), mtime: time(), ctime: time() };
}

function postOpAttrs(r: XdrReader): NfsAttrs | undefined {
  return r.bool() ? readAttrs(r) : undefined;
}

function skipWcc(r: XdrReader): void {
  if (r.bool()) r.skip(8 + 8 + 8);
  postOpAttrs(r);
}

export interface NfsDirEntry {
  name: string;
  attrs?: NfsAttrs;
  handle?: Buffer;
}

/**
 * A small NFSv3 client (RFC 1813) over one export: what a netfs pool
 * needs where the kernel has no NFS client: list the export, read file
 * headers, sizes and free space, set modes, remove files. Image data
 * itself goes through QEMU (libnfs).
 */
export class Nfs3Client {
  private constructor(
    private readonly nfs: RpcClient,
    readonly host: string,
    readonly exportPath: string,
    readonly root: Buffer,
  ) {}

  /** Mounts `exportPath` on `host` (MOUNT3 MNT) and connects to NFS; ports from the portmapper unless given. */
  static async mount(host: string, exportPath: string, o: { nfsPort?: number; mountPort?: number; timeoutMs?: number } = {}): Promise<Nfs3Client> {
    const what = `NFS export ${host}:${exportPath}`;
    const mountPort = o.mountPort ?? (await portmapGetPort(host, MOUNT_PROG, 3, o.timeoutMs));
    const m = await RpcClient.connect(host, mountPort, `${what} (mount)`, o.timeoutMs);
    let root: Buffer;
    try {
      const r = await m.call(MOUNT_PROG, 3, 1, new XdrWriter().string(exportPath).toBuffer());
      const status = r.u32();
      if (status !== 0) {
        const reason = status === 13 ? 'permission denied' : status === 2 ? 'no such export' : `mount status ${status}`;
        throw new VirtError('OPERATION_FAILED', `${what}: cannot mount: ${reason}`, { origin: 'storage.netfs' });
      }
      root = Buffer.from(r.opaque());
    } finally {
      m.close();
    }
    const nfsPort = o.nfsPort ?? (await portmapGetPort(host, NFS_PROG, 3, o.timeoutMs));
    return new Nfs3Client(await RpcClient.connect(host, nfsPort, what, o.timeoutMs), host, exportPath, root);
  }

  private async status(r: XdrReader, what: string): Promise<void> {
    const s = r.u32();
    if (s !== 0) throw new NfsError(s, `${this.host}:${this.exportPath}: ${what}`);
  }

  async getattr(fh: Buffer = this.root): Promise<NfsAttrs> {
    const r = await this.nfs.call(NFS_PROG, 3, 1, new XdrWriter().opaque(fh).toBuffer());
    await this.status(r, 'GETATTR');
    return readAttrs(r);
  }

  /** The handle and attributes of `name` in the export's root (or `dir`). */
  async lookup(name: string, dir: Buffer = this.root): Promise<{ handle: Buffer; attrs?: NfsAttrs }> {
    const r = await this.nfs.call(NFS_PROG, 3, 3, new XdrWriter().opaque(dir).string(name).toBuffer());
    await this.status(r, `LOOKUP ${name}`);
    const handle = Buffer.from(r.opaque());
    const attrs = postOpAttrs(r);
    return { handle, ...(attrs ? { attrs } : {}) };
  }

  async read(fh: Buffer, offset: bigint, count: number): Promise<Buffer> {
    const r = await this.nfs.call(NFS_PROG, 3, 6, new XdrWriter().opaque(fh).u64(offset).u32(count).toBuffer());
    await this.status(r, 'READ');
    postOpAttrs(r);
    r.u32();
    r.bool();
    return Buffer.from(r.opaque());
  }

  /** Sets a file's mode, and owner/group when given (SETATTR). */
  async setattr(fh: Buffer, a: { mode?: number; uid?: number; gid?: number }): Promise<void> {
    const w = new XdrWriter().opaque(fh);
    for (const v of [a.mode, a.uid, a.gid]) {
      w.bool(v !== undefined);
      if (v !== undefined) w.u32(v);
    }
    w.bool(false); // size
    w.u32(0).u32(0); // atime, mtime: don't change
    w.bool(false); // no guard
    const r = await this.nfs.call(NFS_PROG, 3, 2, w.toBuffer());
    await this.status(r, 'SETATTR');
  }

  async remove(name: string, dir: Buffer = this.root): Promise<void> {
    const r = await this.nfs.call(NFS_PROG, 3, 12, new XdrWriter().opaque(dir).string(name).toBuffer());
    await this.status(r, `REMOVE ${name}`);
    skipWcc(r);
  }

  async rmdir(name: string, dir: Buffer = this.root): Promise<void> {
    const r = await this.nfs.call(NFS_PROG, 3, 13, new XdrWriter().opaque(dir).string(name).toBuffer());
    await this.status(r, `RMDIR ${name}`);
  }

  /** Every entry of a directory with attributes (READDIRPLUS, all pages). */
  async readdirplus(dir: Buffer = this.root): Promise<NfsDirEntry[]> {
    const out: NfsDirEntry[] = [];
    let cookie = 0n;
    let verf = Buffer.alloc(8);
    for (;;) {
      const r = await this.nfs.call(NFS_PROG, 3, 17, new XdrWriter().opaque(dir).u64(cookie).fixed(verf).u32(8192).u32(65536).toBuffer());
      await this.status(r, 'READDIRPLUS');
      postOpAttrs(r);
      verf = Buffer.from(r.fixed(8));
      while (r.bool()) {
        r.u64(); // fileid
        const name = r.string();
        cookie = r.u64();
        const attrs = postOpAttrs(r);
        const handle = r.bool() ? Buffer.from(r.opaque()) : undefined;
        if (name === '.' || name === '..') continue;
        out.push({ name, ...(attrs ? { attrs } : {}), ...(handle ? { handle } : {}) });
      }
      if (r.bool()) return out;
    }
  }

  /** Total, free and available bytes of the export's file system (FSSTAT). */
  async fsstat(): Promise<{ total: bigint; free: bigint; available: bigint }> {
    const r = await this.nfs.call(NFS_PROG, 3, 18, new XdrWriter().opaque(this.root).toBuffer());
    await this.status(r, 'FSSTAT');
    postOpAttrs(r);
    return { total: r.u64(), free: r.u64(), available: r.u64() };
  }

  close(): void {
    this.nfs.close();
  }
}
