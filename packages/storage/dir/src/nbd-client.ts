import { connect, type Socket } from 'node:net';
import { VirtError } from '@virtkit/core';

const NBDMAGIC = 0x4e42444d41474943n;
const IHAVEOPT = 0x49484156454f5054n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const OPT_EXPORT_NAME = 1;
const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;
const TX_READ_ONLY = 2;
const TX_SEND_FLUSH = 4;
const TX_SEND_WRITE_ZEROES = 64;
const CMD_READ = 0;
const CMD_WRITE = 1;
const CMD_DISC = 2;
const CMD_FLUSH = 3;
const CMD_WRITE_ZEROES = 6;

/** Largest request sent at once (qemu-nbd accepts 32 MiB). */
export const NBD_MAX_REQUEST = 16 << 20;

/** Reads exact byte counts from a socket. */
class SocketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      this.pump();
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.reject(this.failure);
      }
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('connection closed by the NBD server')));
  }

  private pump(): void {
    const w = this.waiter;
    if (!w || this.buffered < w.n) return;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, w.n);
    const rest = all.subarray(w.n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    this.waiter = undefined;
    w.resolve(Buffer.from(out));
  }

  read(n: number): Promise<Buffer> {
    if (n === 0) return Promise.resolve(Buffer.alloc(0));
    return new Promise((resolve, reject) => {
      this.waiter = { n, resolve, reject };
      if (this.buffered >= n) this.pump();
      else if (this.failure) {
        this.waiter = undefined;
        reject(this.failure);
      }
    });
  }
}

/**
 * A minimal NBD client (fixed newstyle handshake, simple replies, one
 * request at a time): enough to read and write a volume that QEMU's block
 * layer opens (NFS through libnfs, iSCSI through libiscsi) via qemu-nbd.
 */
export class NbdClient {
  private handle = 1n;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly sock: Socket,
    private readonly reader: SocketReader,
    readonly size: number,
    private readonly flags: number,
    private readonly what: string,
  ) {}

  static async connect(socketPath: string, what: string, exportName = ''): Promise<NbdClient> {
    const sock = connect(socketPath);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const reader = new SocketReader(sock);
    const fail = (m: string) => new VirtError('RPC', `${what}: NBD handshake: ${m}`, { origin: 'storage' });
    const hello = await reader.read(18);
    if (hello.readBigUInt64BE(0) !== NBDMAGIC || hello.readBigUInt64BE(8) !== IHAVEOPT) {
      sock.destroy();
      throw fail('not a newstyle NBD server');
    }
    const serverFlags = hello.readUInt16BE(16);
    const noZeroes = (serverFlags & FLAG_NO_ZEROES) !== 0;
    const clientFlags = Buffer.alloc(4);
    clientFlags.writeUInt32BE(FLAG_FIXED_NEWSTYLE | (noZeroes ? FLAG_NO_ZEROES : 0));
    const name = Buffer.from(exportName, 'utf8');
    const opt = Buffer.alloc(16);
    opt.writeBigUInt64BE(IHAVEOPT, 0);
    opt.writeUInt32BE(OPT_EXPORT_NAME, 8);
    opt.writeUInt32BE(name.length, 12);
    sock.write(Buffer.concat([clientFlags, opt, name]));
    const info = await reader.read(10 + (noZeroes ? 0 : 124));
    const size = info.readBigUInt64BE(0);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) {
      sock.destroy();
      throw fail('export is too large');
    }
    return new NbdClient(sock, reader, Number(size), info.readUInt16BE(8), what);
  }

  get readOnly(): boolean {
    return (this.flags & TX_READ_ONLY) !== 0;
  }
  get canWriteZeroes(): boolean {
    return (this.flags & TX_SEND_WRITE_ZEROES) !== 0;
  }

  private request(type: number, offset: number, length: number, data?: Buffer): Promise<Buffer> {
    const run = async (): Promise<Buffer> => {
      const h = this.handle++;
      const hdr = Buffer.alloc(28);
      hdr.writeUInt32BE(REQUEST_MAGIC, 0);
      hdr.writeUInt16BE(0, 4);
      hdr.writeUInt16BE(type, 6);
      hdr.writeBigUInt64BE(h, 8);
      hdr.writeBigUInt64BE(BigInt(offset), 16);
      hdr.writeUInt32BE(length, 24);
      this.sock.write(data ? Buffer.concat([hdr, data]) : hdr);
      if (type === CMD_DISC) return Buffer.alloc(0);
      const reply = await this.reader.read(16);
      if (reply.readUInt32BE(0) !== SIMPLE_REPLY_MAGIC || reply.readBigUInt64BE(8) !== h) {
        throw new VirtError('RPC', `${this.what}: unexpected NBD reply`, { origin: 'storage' });
      }
      const error = reply.readUInt32BE(4);
      if (error !== 0) {
        const code = type === CMD_READ ? 'READ_FAILED' : 'WRITE_FAILED';
        throw new VirtError(code, `${this.what}: NBD ${type === CMD_READ ? 'read' : 'write'} at ${offset} failed (errno ${error})`, { origin: 'storage' });
      }
      return type === CMD_READ ? this.reader.read(length) : Buffer.alloc(0);
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.request(CMD_READ, offset, length);
  }
  async write(offset: number, data: Buffer): Promise<void> {
    await this.request(CMD_WRITE, offset, data.length, data);
  }
  async writeZeroes(offset: number, length: number): Promise<void> {
    await this.request(CMD_WRITE_ZEROES, offset, length);
  }
  async flush(): Promise<void> {
    if (this.flags & TX_SEND_FLUSH) await this.request(CMD_FLUSH, 0, 0);
  }
  async disconnect(): Promise<void> {
    await this.request(CMD_DISC, 0, 0).catch(() => {});
    await new Promise<void>((resolve) => {
      this.sock.end(() => resolve());
      setTimeout(resolve, 1000).unref();
    });
    this.sock.destroy();
  }
}
