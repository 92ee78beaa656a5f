import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, type VirtError, type VirtEvent } from '@virtkit/core';
import { RpcClient } from '../client/rpc-client.js';
import { encodeFrame, encodeJsonFrame, FrameDecoder, FrameType, type Frame } from '../protocol/frame.js';
import { clientHello } from '../protocol/hello.js';
import { startDaemon, stopAllDaemons, type RunningDaemon } from '../test-support/daemon-process.js';
import { connectUnix } from '../transport/unix.js';

let d: RunningDaemon;

/** A raw protocol client: what it sends is up to the test. */
class RawClient {
  readonly frames: Frame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024, (f) => this.frames.push({ ...f, payload: Buffer.from(f.payload) }));
  private constructor(readonly sock: Socket) {
    sock.on('data', (c: Buffer) => {
      try {
        this.decoder.push(c);
      } catch {
        /* the test looks at what came before */
      }
    });
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => {});
  }
  static open(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ path });
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }
  send(b: Buffer | string): void {
    this.sock.write(b);
  }
  hello(): void {
    this.send(encodeJsonFrame(FrameType.HELLO, 0, clientHello('raw-test')));
  }
  call(id: number, p: string, a: unknown[] = []): void {
    this.send(encodeJsonFrame(FrameType.CALL, id, { p, a }));
  }
  async waitFor(pred: (f: Frame) => boolean, ms = 5000): Promise<Frame> {
    const end = Date.now() + ms;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() > end) throw new Error(`no matching frame; got ${this.frames.map((x) => `${x.type}/${x.id}`).join(' ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  async waitClosed(ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > end) throw new Error('connection still open');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  json(f: Frame): Record<string, unknown> {
    return JSON.parse(f.payload.toString()) as Record<string, unknown>;
  }
  destroy(): void {
    this.sock.destroy();
  }
}

/** A well-behaved client's round trip still works (the daemon is fine). */
async function stillServes(): Promise<void> {
  const c = await Connection.open(`stub+unix:///default?socket=${d.rw}`);
  try {
    expect(await c.getHostname()).toBe('stubhost');
  } finally {
    await c.close();
  }
}

beforeAll(async () => {
  d = await startDaemon({
    config: ['handshake_timeout = 1', 'keepalive_interval = 1', 'keepalive_count = 2', 'max_client_queue_bytes = 2097152'].join('\n'),
  });
});
afterAll(async () => {
  await stopAllDaemons();
});

describe('hostile clients', () => {
  it('hangs up on a frame length shorter than a header, saying why', async () => {
    const c = await RawClient.open(d.rw);
    c.send(Buffer.from([0, 0, 0, 2, 9, 9]));
    const err = await c.waitFor((f) => f.type === FrameType.ERROR);
    expect(c.json(err).code).toBe('RPC');
    await c.waitClosed();
    await stillServes();
  });

  it('hangs up on something that is not the protocol (an HTTP request)', async () => {
    const c = await RawClient.open(d.rw);
    c.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const err = await c.waitFor((f) => f.type === FrameType.ERROR);
    expect(String(c.json(err).message)).toMatch(/exceeds the limit/);
    await c.waitClosed();
    await d.waitLog((l) => l.msg === 'refused' && /protocol error/.test(String(l.reason)) && /exceeds the limit/.test(String(l.error)));
    await stillServes();
  });

  it('refuses a call before the handshake, and a handshake of another protocol version', async () => {
    const a = await RawClient.open(d.rw);
    a.call(1, 'host.getHostname');
    await a.waitFor((f) => f.type === FrameType.ERROR);
    await a.waitClosed();
    const b = await RawClient.open(d.rw);
    b.send(encodeJsonFrame(FrameType.HELLO, 0, { magic: 'virtkit', versions: [99], software: 'future' }));
    const err = await b.waitFor((f) => f.type === FrameType.ERROR);
    expect(String(b.json(err).message)).toMatch(/version 99/);
    await b.waitClosed();
    await d.waitLog((l) => l.msg === 'refused' && String(l.reason).includes('version 99'));
  });

  it('closes a connection announcing an oversize frame', async () => {
    const c = await RawClient.open(d.rw);
    c.hello();
    await c.waitFor((f) => f.type === FrameType.HELLO);
    const head = Buffer.alloc(9);
    head.writeUInt32BE(100 * 1024 * 1024, 0);
    head[4] = FrameType.CALL;
    c.send(head);
    const err = await c.waitFor((f) => f.type === FrameType.ERROR && f.id === 0);
    expect(String(c.json(err).message)).toMatch(/exceeds the limit of 33554432 bytes/);
    await c.waitClosed();
    await stillServes();
  });

  it('answers malformed calls and unknown procedures with errors and keeps the connection', async () => {
    const c = await RawClient.open(d.rw);
    c.hello();
    c.call(1, 'connect.open', [{ uri: 'stub:///default', readonly: false }]);
    await c.waitFor((f) => f.type === FrameType.REPLY && f.id === 1);
    c.send(encodeFrame(FrameType.CALL, 2, Buffer.from('{not json')));
    c.call(3, 'domains.formatHardDisk', ['x']);
    c.send(encodeJsonFrame(FrameType.CALL, 4, { a: [] }));
    c.call(5, 'domains.lookupDomain', [{ name: 42 }]);
    c.call(6, 'constructor', []);
    c.call(7, '__proto__.toString', []);
    c.call(8, 'host.getHostname');
    const codes: Record<number, unknown> = {};
    for (const id of [2, 3, 4, 5, 6, 7]) codes[id] = c.json(await c.waitFor((f) => f.type === FrameType.ERROR && f.id === id)).code;
    expect(codes).toEqual({ 2: 'RPC', 3: 'NO_SUPPORT', 4: 'RPC', 5: 'INVALID_ARG', 6: 'NO_SUPPORT', 7: 'NO_SUPPORT' });
    const ok = await c.waitFor((f) => f.type === FrameType.REPLY && f.id === 8);
    expect(c.json(ok).r).toBe('stubhost');
    expect(c.closed).toBe(false);
    await d.waitLog((l) => l.msg === 'refused' && l.proc === 'domains.formatHardDisk');
    c.destroy();
  });

  it('drops half-open connections (no handshake, or a frame that never completes) while serving others', async () => {
    const silent = await RawClient.open(d.rw);
    const partial = await RawClient.open(d.rw);
    partial.send(Buffer.from([0, 0, 0]));
    const midFrame = await RawClient.open(d.rw);
    midFrame.hello();
    await midFrame.waitFor((f) => f.type === FrameType.HELLO);
    const head = Buffer.alloc(20);
    head.writeUInt32BE(1000, 0);
    head[4] = FrameType.CALL;
    midFrame.send(head);
    // It does not answer keepalive probes either (its bytes are stuck in a half frame).
    midFrame.sock.pause();
    await stillServes();
    await silent.waitClosed(3000);
    await partial.waitClosed(3000);
    await d.waitLog((l) => l.msg === 'refused' && l.reason === 'no handshake within the timeout');
    // Two unanswered probes a second apart, then it is gone (its paused socket cannot see the close: ask the log).
    await d.waitLog((l) => l.msg === 'client disconnected' && /keepalive/.test(String(l.reason)), 6000);
    midFrame.destroy();
  });

  it('serves 1,000 concurrent connections', async () => {
    const clients = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const t = await connectUnix(i % 2 ? d.ro : d.rw);
        const rpc = await RpcClient.connect(t.socket, { label: `c${i}`, keepaliveIntervalMs: 0 });
        await rpc.call('connect.open', [{ uri: 'stub:///default', readonly: false }]);
        return rpc;
      }),
    );
    try {
      const names = await Promise.all(clients.map((c) => c.call('host.getHostname', [])));
      expect(names.every((n) => n === 'stubhost')).toBe(true);
      await stillServes();
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 60_000);

  it('keeps serving others, losing no event, while a client stops reading; then drops that client', async () => {
    const stuck = await RawClient.open(d.rw);
    stuck.hello();
    stuck.call(1, 'connect.open', [{ uri: 'stub:///default', readonly: false }]);
    await stuck.waitFor((f) => f.type === FrameType.REPLY && f.id === 1);
    stuck.sock.pause();
    // It keeps asking and never reads the answers.
    for (let i = 0; i < 20000; i++) stuck.call(100 + i, 'host.getCapabilities');

    const watcher = await Connection.open(`stub+unix:///default?socket=${d.ro}`, { readonly: true });
    const actor = await Connection.open(`stub+unix:///default?socket=${d.rw}`);
    try {
      const seen: VirtEvent[] = [];
      watcher.on('domain', (e) => seen.push(e));
      const dom = await actor.defineDomainXml("<domain><name>flood</name></domain>");
      const cycles = 4000;
      const t0 = Date.now();
      for (let i = 0; i < cycles; i++) {
        await dom.start();
        await dom.destroy();
      }
      const perCall = (Date.now() - t0) / (cycles * 2);
      await dom.undefine();
      const want = cycles * 2 + 2;
      const end = Date.now() + 10000;
      while (seen.length < want && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(seen.length).toBe(want);
      expect(perCall).toBeLessThan(20);
      // 8,000 events it did not read pushed its queue past max_client_queue_bytes.
      await d.waitLog((l) => l.msg === 'refused' && String(l.reason).startsWith('client does not read'), 10000);
      stuck.sock.resume();
      await stuck.waitClosed();
    } finally {
      stuck.destroy();
      await watcher.close();
      await actor.close();
    }
  }, 60_000);

  it('reports the code of a refused open', async () => {
    const t = await connectUnix(d.rw);
    const rpc = await RpcClient.connect(t.socket, { label: 'x' });
    try {
      const err = await rpc.call('connect.open', [{ uri: 'nosuchdriver:///system', readonly: false }]).catch((e: unknown) => e);
      expect((err as VirtError).code).toBe('NO_CONNECT');
      // The connection stays usable for another open.
      await rpc.call('connect.open', [{ uri: 'stub:///default', readonly: false }]);
      expect(await rpc.call('host.getHostname', [])).toBe('stubhost');
    } finally {
      await rpc.close();
    }
  });
});
