import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, VirtError, type VirtEvent } from '@virtkit/core';
import { startDaemon, stopAllDaemons, type RunningDaemon } from '../test-support/daemon-process.js';

let d: RunningDaemon;
const uri = (sock: string) => `stub+unix:///default?socket=${sock}`;
const open = (readonly = false, sock = readonly ? d.ro : d.rw) => Connection.open(uri(sock), { readonly });
const xml = (name: string) => `<domain type='stub'><name>${name}</name></domain>`;

async function until<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => {
  await stopAllDaemons();
});

describe('virtkitd over its unix sockets', () => {
  it('serves host calls, lookups and lifecycle changes', async () => {
    const c = await open();
    try {
      expect(await c.getHostname()).toBe('stubhost');
      expect((await c.getVersion()).hypervisor).toBe('Stub');
      expect(c.supports('domain.console')).toBe(true);
      expect(c.supports('domain.migrate')).toBe(false);
      const dom = await c.defineDomainXml(xml('host-calls'));
      await dom.start();
      expect((await c.lookupDomainByName('host-calls')).id).toBeGreaterThan(0);
      expect((await dom.getInfo()).state).toBe('running');
      await dom.destroy();
      await dom.undefine();
      const err = await c.lookupDomainByName('host-calls').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VirtError);
      expect((err as VirtError).code).toBe('NO_DOMAIN');
      expect((err as VirtError).origin).toBe('stub');
    } finally {
      await c.close();
    }
  });

  it('makes the socket files owner-only (rw) and open (ro)', async () => {
    const { statSync } = await import('node:fs');
    expect(statSync(d.rw).mode & 0o777).toBe(0o600);
    expect(statSync(d.ro).mode & 0o777).toBe(0o666);
  });

  it('delivers events to other clients', async () => {
    const watcher = await open(true);
    const actor = await open();
    try {
      const seen: VirtEvent[] = [];
      watcher.on('*', (e) => seen.push(e));
      const dom = await actor.defineDomainXml(xml('events'));
      await dom.start();
      await until(() => seen.find((e) => e.kind === 'domain' && e.type === 'started' && e.domain.name === 'events'));
      await dom.destroy();
      await dom.undefine();
      await until(() => seen.find((e) => e.kind === 'domain' && e.type === 'undefined' && e.domain.name === 'events'));
    } finally {
      await watcher.close();
      await actor.close();
    }
  });

  it('refuses every change on the read-only socket, logging each refusal', async () => {
    const rw = await open();
    const dom = await rw.defineDomainXml(xml('ro-target'));
    // A client that does not check read-only itself (the daemon must refuse anyway).
    const { RpcClient } = await import('../client/rpc-client.js');
    const { connectUnix } = await import('../transport/unix.js');
    const t = await connectUnix(d.ro);
    const rpc = await RpcClient.connect(t.socket, { label: 'ro' });
    try {
      expect(rpc.daemonReadonly).toBe(true);
      const session = (await rpc.call('connect.open', [{ uri: 'stub:///default', readonly: false }])) as { readonly: boolean };
      expect(session.readonly).toBe(true);
      for (const [proc, args] of [
        ['domains.startDomain', [dom.uuid]],
        ['domains.undefineDomain', [dom.uuid]],
        ['domains.defineDomain', [xml('ro-new')]],
        ['storage.deleteVolume', [{ pool: 'default', name: 'x' }]],
      ] as const) {
        const err = await rpc.call(proc, [...args]).catch((e: unknown) => e);
        expect((err as VirtError).code, proc).toBe('OPERATION_DENIED');
        await d.waitLog((l) => l.msg === 'refused' && l.proc === proc && l.access === 'unix-ro');
      }
      // Reads still work.
      expect(await rpc.call('domains.getXml', [dom.uuid])).toContain('<name>ro-target</name>');
      expect((await rw.lookupDomainByName('ro-target')).id).toBe(-1);
    } finally {
      await rpc.close();
      await dom.undefine();
      await rw.close();
    }
  });

  it('keeps a read-only open read-only on the read-write socket', async () => {
    const { RpcClient } = await import('../client/rpc-client.js');
    const { connectUnix } = await import('../transport/unix.js');
    const t = await connectUnix(d.rw);
    const rpc = await RpcClient.connect(t.socket, { label: 'rw' });
    try {
      await rpc.call('connect.open', [{ uri: 'stub:///default', readonly: true }]);
      const err = await rpc.call('domains.defineDomain', [xml('nope')]).catch((e: unknown) => e);
      expect((err as VirtError).code).toBe('OPERATION_DENIED');
    } finally {
      await rpc.close();
    }
  });

  it('runs many calls in flight on one connection', async () => {
    const c = await open();
    try {
      const dom = await c.defineDomainXml(xml('many'));
      // Slow calls (200 ms each) and fast ones interleave: replies come back by call id, not in order.
      const slow = Array.from({ length: 20 }, () => dom.getStats(['200']));
      const t0 = Date.now();
      const fast = await Promise.all(Array.from({ length: 200 }, () => dom.getInfo()));
      expect(Date.now() - t0).toBeLessThan(200);
      expect(fast.every((i) => i.state === 'shutoff')).toBe(true);
      const res = await Promise.all(slow);
      expect(res.every((r) => r['200.slept'] === 200)).toBe(true);
      await dom.undefine();
    } finally {
      await c.close();
    }
  });

  it('uploads and downloads volumes as flow-controlled streams', async () => {
    const c = await open();
    try {
      const pool = await c.lookupStoragePool('default');
      const vol = await pool.createVolumeXml('<volume><name>blob</name><capacity>0</capacity></volume>');
      const data = Buffer.alloc(5 * 1024 * 1024 + 123);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;
      const progress: number[] = [];
      await vol.upload(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), {}, { onProgress: (p) => progress.push(p.processed) });
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[progress.length - 1]).toBe(data.length);
      expect((await vol.getInfo()).capacity).toBe(data.length);

      const stream = await vol.download();
      // Read slowly at first: the daemon must wait for credit, not buffer everything.
      const parts: Buffer[] = [];
      for await (const chunk of stream) {
        parts.push(chunk as Buffer);
        if (parts.length < 5) await new Promise((r) => setTimeout(r, 20));
      }
      expect(Buffer.concat(parts).equals(data)).toBe(true);

      const partial = await vol.download({ offset: 10, length: 100 });
      const got: Buffer[] = [];
      for await (const chunk of partial) got.push(chunk as Buffer);
      expect(Buffer.concat(got).equals(data.subarray(10, 110))).toBe(true);
      await vol.delete();
    } finally {
      await c.close();
    }
  });

  it('fails a download of a missing volume with the driver error', async () => {
    const c = await open();
    try {
      const err = await c.storage.downloadVolume!({ pool: 'default', name: 'missing' }).catch((e: unknown) => e);
      expect((err as VirtError).code).toBe('NO_STORAGE_VOL');
    } finally {
      await c.close();
    }
  });

  it('carries a console both ways', async () => {
    const c = await open();
    try {
      const dom = await c.defineDomainXml(xml('console'));
      const con = await dom.openConsole();
      const got: Buffer[] = [];
      con.on('data', (b: Buffer) => got.push(b));
      con.write('hello ');
      con.write(Buffer.alloc(300 * 1024, 0x61));
      con.end('bye');
      await new Promise((r) => con.once('end', r));
      expect(Buffer.concat(got).toString()).toBe(`hello ${'a'.repeat(300 * 1024)}bye`);
      await dom.undefine();
    } finally {
      await c.close();
    }
  });

  it('reports job progress and cancels a job through its AbortSignal', async () => {
    const c = await open();
    try {
      const dom = await c.defineDomainXml(xml('jobs'));
      const seen: number[] = [];
      await dom.save('/tmp/unused.save', {}, { onProgress: (p) => seen.push(p.processed) });
      expect(seen.length).toBeGreaterThan(2);
      expect(seen[seen.length - 1]).toBe(20);

      const ac = new AbortController();
      const p = dom.save('/tmp/unused.save', {}, { signal: ac.signal });
      setTimeout(() => ac.abort(), 150);
      const err = await p.catch((e: unknown) => e);
      expect((err as VirtError).code).toBe('OPERATION_ABORTED');
      await dom.undefine();
    } finally {
      await c.close();
    }
  });

  it('refuses URIs of other hosts and embed roots it does not serve', async () => {
    const { RpcClient } = await import('../client/rpc-client.js');
    const { connectUnix } = await import('../transport/unix.js');
    const rpc = await RpcClient.connect((await connectUnix(d.rw)).socket, { label: 'x' });
    try {
      for (const u of ['qemu+ssh://elsewhere/system', 'qemu:///embed?root=/etc']) {
        const err = await rpc.call('connect.open', [{ uri: u, readonly: false }]).catch((e: unknown) => e);
        expect((err as VirtError).code).toBe('OPERATION_DENIED');
      }
    } finally {
      await rpc.close();
    }
  });

  it('says what to start when no daemon answers', async () => {
    const err = await Connection.open(uri('/tmp/no-such-virtkitd/sock')).catch((e: unknown) => e);
    expect((err as VirtError).code).toBe('NO_CONNECT');
    expect((err as Error).message).toMatch(/no virtkitd answers at \/tmp\/no-such-virtkitd\/sock.*virtkitd/);
  });

  it('serves one client on stdin/stdout with --stdio', async () => {
    const { spawn } = await import('node:child_process');
    const { Duplex } = await import('node:stream');
    const { RpcClient } = await import('../client/rpc-client.js');
    const { VIRTKITD, FIXTURE_PLUGINS } = await import('../test-support/daemon-process.js');
    const child = spawn(process.execPath, [VIRTKITD, '--stdio', '--root', `${d.dir}/stdio-root`], {
      env: { ...process.env, VIRTKIT_PLUGIN_PATH: FIXTURE_PLUGINS },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const io = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
    const rpc = await RpcClient.connect(io, { label: 'virtkitd --stdio' });
    await rpc.call('connect.open', [{ uri: 'stub:///default', readonly: false }]);
    expect(await rpc.call('host.getHostname', [])).toBe('stubhost');
    await rpc.close();
    expect(await exited).toBe(0);
  });

  it('refuses connections past max_clients, saying why', async () => {
    const small = await startDaemon({ config: 'max_clients = 2' });
    const held = [await open(false, small.rw), await open(false, small.rw)];
    try {
      const err = await open(false, small.rw).catch((e: unknown) => e);
      expect((err as VirtError).code).toBe('RESOURCE_BUSY');
      expect((err as Error).message).toMatch(/too many clients \(max_clients = 2\)/);
      await small.waitLog((l) => l.msg === 'refused' && String(l.reason).startsWith('too many clients'));
    } finally {
      for (const c of held) await c.close();
      await small.stop();
    }
  });

  it('is named virtkitd in the process table', async () => {
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(`/proc/${d.proc.pid}/comm`, 'utf8').trim()).toBe('virtkitd');
  });
});
