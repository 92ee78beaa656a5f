import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { VirtError } from '@virtkit/core';

/** XDR encoding (RFC 4506), the parts ONC RPC and NFSv3 use. */
export class XdrWriter {
  private parts: Buffer[] = [];
  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    this.parts.push(b);
    return this;
  }
  u64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    this.parts.push(b);
    return this;
  }
  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }
  opaque(data: Buffer): this {
    this.u32(data.length);
    return this.fixed(data);
  }
  fixed(data: Buffer): this {
    this.parts.push(data);
    const pad = (4 - (data.length % 4)) % 4;
    if (pad) this.parts.push(Buffer.alloc(pad));
    return this;
  }
  string(s: string): this {
    return this.opaque(Buffer.from(s, 'utf8'));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class XdrReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new VirtError('RPC', 'RPC reply is truncated', { origin: 'storage.netfs' });
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  bool(): boolean {
    return this.u32() !== 0;
  }
  fixed(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n + ((4 - (n % 4)) % 4);
    return out;
  }
  opaque(): Buffer {
    return this.fixed(this.u32());
  }
  string(): string {
    return this.opaque().toString('utf8');
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
}

const RPC_CALL = 0;
const RPC_REPLY = 1;
const MSG_ACCEPTED = 0;
const SUCCESS = 0;
const AUTH_UNIX = 1;

/** AUTH_UNIX credentials (RFC 5531): this process's uid/gid, which root-squashing servers map. */
function authUnix(): Buffer {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const gid = typeof process.getgid === 'function' ? process.getgid() : 0;
  const body = new XdrWriter().u32(Math.floor(Date.now() / 1000)).string(hostname().slice(0, 255)).u32(uid).u32(gid).u32(0).toBuffer();
  return new XdrWriter().u32(AUTH_UNIX).opaque(body).toBuffer();
}

/** Connects from a reserved port (< 1024) when running as root, as NFS servers with `secure` exports want. */
async function connectSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const tries = root ? 20 : 1;
  let last: Error | undefined;
  for (let i = 0; i < tries; i++) {
    const localPort = root ? 600 + Math.floor(Math.random() * 423) : undefined;
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host, port, ...(localPort ? { localPort } : {}) });
        const t = setTimeout(() => {
          s.destroy();
          reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
        }, timeoutMs);
        s.once('connect', () => {
          clearTimeout(t);
          resolve(s);
        });
        s.once('error', (err) => {
          clearTimeout(t);
          reject(err);
        });
      });
    } catch (err) {
      last = err as Error;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  throw new VirtError('RPC', `cannot connect to ${host}:${port}: ${last?.message}`, { origin: 'storage.netfs', cause: last });
}

/**
 * One ONC RPC connection over TCP (record marking, AUTH_UNIX), calls made
 * one at a time. Enough for the portmapper, MOUNT and NFSv3 calls a
 * netfs pool makes in user space.
 */
export class RpcClient {
  private xid = Math.floor(Math.random() * 0x7fffffff);
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly sock: Socket, readonly what: string, private readonly timeoutMs: number) {
    sock.on('data', (d: Buffer) => this.onData(d));
    const fail = (err: Error) => {
      this.failure ??= err;
      this.waiting?.reject(err);
      this.waiting = undefined;
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('connection closed')));
  }

  static async connect(host: string, port: number, what: string, timeoutMs = 15000): Promise<RpcClient> {
    return new RpcClient(await connectSocket(host, port, timeoutMs), what, timeoutMs);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 4) {
      const mark = this.buf.readUInt32BE(0);
      const len = mark & 0x7fffffff;
      if (this.buf.length < 4 + len) break;
      this.fragments.push(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
      if (mark & 0x80000000) {
        const rec = Buffer.concat(this.fragments);
        this.fragments = [];
        const w = this.waiting;
        this.waiting = undefined;
        w?.resolve(rec);
      }
    }
  }

  /** Calls `prog.vers.proc` with XDR-encoded args; returns a reader at the start of the results. */
  call(prog: number, vers: number, proc: number, args: Buffer): Promise<XdrReader> {
    const run = async (): Promise<XdrReader> => {
      if (this.failure) throw new VirtError('RPC', `${this.what}: ${this.failure.message}`, { origin: 'storage.netfs' });
      const xid = (this.xid = (this.xid + 1) >>> 0);
      const body = new XdrWriter().u32(xid).u32(RPC_CALL).u32(2).u32(prog).u32(vers).u32(proc).fixed(authUnix()).u32(0).u32(0).toBuffer();
      const msg = Buffer.concat([body, args]);
      const mark = Buffer.alloc(4);
      mark.writeUInt32BE((0x80000000 | msg.length) >>> 0);
      const reply = new Promise<Buffer>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no reply within ${this.timeoutMs} ms`)), this.timeoutMs);
        this.waiting = {
          resolve: (b) => {
            clearTimeout(t);
            resolve(b);
          },
          reject: (e) => {
            clearTimeout(t);
            reject(e);
          },
        };
      });
      this.sock.write(Buffer.concat([mark, msg]));
      let rec: Buffer;
      try {
        rec = await reply;
      } catch (err) {
        throw new VirtError('RPC', `${this.what}: ${(err as Error).message}`, { origin: 'storage.netfs', cause: err });
      }
      const r = new XdrReader(rec);
      if (r.u32() !== xid || r.u32() !== RPC_REPLY) throw new VirtError('RPC', `${this.what}: unexpected RPC reply`, { origin: 'storage.netfs' });
      if (r.u32() !== MSG_ACCEPTED) throw new VirtError('RPC', `${this.what}: RPC call denied (authentication)`, { origin: 'storage.netfs' });
      r.u32();
      r.opaque();
      const stat = r.u32();
      if (stat !== SUCCESS) throw new VirtError('RPC', `${this.what}: RPC call failed (accept status ${stat})`, { origin: 'storage.netfs' });
      return r;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Asks the portmapper (port 111) for a program's TCP port (PMAPPROC_GETPORT). */
export async function portmapGetPort(host: string, prog: number, vers: number, timeoutMs?: number): Promise<number> {
  const c = await RpcClient.connect(host, 111, `portmapper on ${host}`, timeoutMs);
  try {
    const r = await c.call(100000, 2, 3, new XdrWriter().u32(prog).u32(vers).u32(6).u32(0).toBuffer());
    const port = r.u32();
    if (!port) throw new VirtError('RPC', `program ${prog} version ${vers} is not registered on ${host}`, { origin: 'storage.netfs' });
    return port;
  } finally {
    c.close();
  }
}
