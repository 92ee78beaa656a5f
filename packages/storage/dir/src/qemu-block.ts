import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtError, type VolumeDiskSource } from '@virtkit/core';
import type { BlockTarget, OpenMode } from './block-target.js';
import { NBD_MAX_REQUEST, NbdClient } from './nbd-client.js';

const comma = (s: string) => s.replace(/,/g, ',,');

/**
 * QEMU's protocol-layer options for a volume source, as `key=value`
 * pairs (`file.` prefixed when `prefix` is given): what `--image-opts`
 * and `-blockdev` take to open the volume's bytes.
 */
export function qemuProtocolOptions(src: VolumeDiskSource, prefix = ''): string[] {
  const p = (k: string, v: string | number) => `${prefix}${k}=${comma(String(v))}`;
  if (src.type !== 'network') {
    const driver = src.type === 'block' ? 'host_device' : 'file';
    return [p('driver', driver), p('filename', src.path)];
  }
  const host = src.hosts[0];
  if (!host) throw new VirtError('INTERNAL_ERROR', `network volume '${src.name}' has no host`, { origin: 'storage' });
  if (src.protocol === 'nfs') {
    return [p('driver', 'nfs'), p('server.type', 'inet'), p('server.host', host.name), p('path', src.name)];
  }
  if (src.protocol === 'iscsi') {
    const slash = src.name.lastIndexOf('/');
    const out = [
      p('driver', 'iscsi'),
      p('transport', 'tcp'),
      p('portal', `${host.name.includes(':') ? `[${host.name}]` : host.name}:${host.port ?? 3260}`),
      p('target', src.name.slice(0, slash)),
      p('lun', src.name.slice(slash + 1)),
    ];
    if (src.initiatorIqn) out.push(p('initiator-name', src.initiatorIqn));
    return out;
  }
  throw new VirtError('NO_SUPPORT', `network volumes of protocol '${src.protocol}' cannot be opened here`, { origin: 'storage' });
}

/** The `--image-opts` string that opens a volume's raw bytes (a slice of a device included). */
export function qemuRawImageOpts(src: VolumeDiskSource): string {
  const parts = ['driver=raw'];
  if (src.type !== 'network' && src.slice) parts.push(`offset=${src.slice.offset}`, `size=${src.slice.size}`);
  return [...parts, ...qemuProtocolOptions(src, 'file.')].join(',');
}

/** A filename qemu-img accepts for a source (a path, a URL, or a `json:` description for slices). */
export function qemuFilename(src: VolumeDiskSource): string {
  if (src.type === 'network') return src.url;
  if (!src.slice) return src.path;
  return `json:${JSON.stringify({
    driver: 'raw',
    offset: src.slice.offset,
    size: src.slice.size,
    file: { driver: src.type === 'block' ? 'host_device' : 'file', filename: src.path },
  })}`;
}

async function waitForSocket(path: string, child: ChildProcess, what: string, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  for (;;) {
    if (await stat(path).then(() => true, () => false)) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      const msg = stderr.trim().split('\n').pop() ?? '';
      throw new VirtError('OPEN_FAILED', `${what}: qemu-nbd exited${msg ? `: ${msg}` : ''}`, { origin: 'storage' });
    }
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new VirtError('OPERATION_TIMEOUT', `${what}: qemu-nbd did not open its socket within ${ms} ms`, { origin: 'storage' });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Opens a volume's bytes through QEMU's block layer: qemu-nbd serves the
 * source on a private unix socket and an NBD client reads and writes it.
 * Used for network volumes (NFS through libnfs, iSCSI through libiscsi).
 * The export's size is fixed: writing past it fails.
 */
export async function openQemuTarget(src: VolumeDiskSource, mode: OpenMode, what: string, tool = 'qemu-nbd'): Promise<BlockTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'virtkit-nbd-'));
  const sock = join(dir, 'nbd.sock');
  const argv = ['--socket', sock, '--image-opts', '--cache=none', '--aio=threads', ...(mode === 'r' ? ['--read-only'] : []), qemuRawImageOpts(src)];
  const child = spawn(tool, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', () => {});
  let client: NbdClient;
  try {
    await waitForSocket(sock, child, what);
    client = await NbdClient.connect(sock, what);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const size = client.size;
  let closed = false;
  return {
    size,
    growable: false,
    async read(position, length) {
      const len = Math.max(0, Math.min(length, size - position));
      const parts: Buffer[] = [];
      for (let off = 0; off < len; off += NBD_MAX_REQUEST) parts.push(await client.read(position + off, Math.min(NBD_MAX_REQUEST, len - off)));
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    },
    async write(position, data) {
      if (position + data.length > size) throw new VirtError('WRITE_FAILED', `${what}: cannot write beyond its end (${size} bytes)`, { origin: 'storage' });
      for (let off = 0; off < data.length; off += NBD_MAX_REQUEST) await client.write(position + off, data.subarray(off, off + NBD_MAX_REQUEST));
    },
    ...(client.canWriteZeroes
      ? {
          async writeZeroes(position: number, length: number) {
            for (let off = 0; off < length; off += NBD_MAX_REQUEST) await client.writeZeroes(position + off, Math.min(NBD_MAX_REQUEST, length - off));
          },
        }
      : {}),
    async flush() {
      if (mode === 'rw') await client.flush();
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.disconnect();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(t);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
