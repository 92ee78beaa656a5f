import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VolumeDiskSource } from '@virtkit/core';

/** QEMU's -blockdev description of a volume source (what a QEMU driver builds from `<disk type='volume'>`). */
export function blockdevFor(src: VolumeDiskSource, nodeName: string): Record<string, unknown> {
  let file: Record<string, unknown>;
  if (src.type === 'network') {
    const host = src.hosts[0]!;
    if (src.protocol === 'nfs') file = { driver: 'nfs', server: { type: 'inet', host: host.name }, path: src.name };
    else if (src.protocol === 'iscsi') {
      const slash = src.name.lastIndexOf('/');
      file = {
        driver: 'iscsi',
        transport: 'tcp',
        portal: `${host.name}:${host.port ?? 3260}`,
        target: src.name.slice(0, slash),
        lun: Number(src.name.slice(slash + 1)),
        ...(src.initiatorIqn ? { 'initiator-name': src.initiatorIqn } : {}),
      };
    } else throw new Error(`no blockdev for protocol ${src.protocol}`);
  } else file = { driver: src.type === 'block' ? 'host_device' : 'file', filename: src.path };
  const format = src.format ?? 'raw';
  const node: Record<string, unknown> = { 'node-name': nodeName, driver: format, file };
  if (src.type !== 'network' && src.slice) {
    if (format !== 'raw') return { 'node-name': nodeName, driver: format, file: { driver: 'raw', offset: src.slice.offset, size: src.slice.size, file } };
    node.offset = src.slice.offset;
    node.size = src.slice.size;
  }
  return node;
}

export interface QueryBlockEntry {
  device: string;
  qdev?: string;
  inserted?: { file: string; 'node-name'?: string; drv: string; image?: { 'virtual-size': number; format: string; filename: string } };
}

/** One QMP session: commands answered in order. */
async function qmp(socketPath: string, commands: Array<{ execute: string; arguments?: unknown }>): Promise<unknown[]> {
  const sock = connect(socketPath);
  let buf = '';
  const lines: Array<Record<string, unknown>> = [];
  let wake: (() => void) | undefined;
  let closed = false;
  sock.on('close', () => {
    closed = true;
    wake?.();
  });
  sock.on('error', () => {});
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    wake?.();
  });
  const next = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const j = lines.findIndex((l) => 'QMP' in l || 'return' in l || 'error' in l);
      if (j >= 0) return lines.splice(j, 1)[0]!;
      if (closed) throw new Error('QMP connection closed');
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  await next();
  const out: unknown[] = [];
  for (const c of [{ execute: 'qmp_capabilities' }, ...commands]) {
    sock.write(`${JSON.stringify(c)}\n`);
    let r: Record<string, unknown>;
    try {
      r = await next();
    } catch (err) {
      // `quit` may close the connection before it answers.
      if (c.execute === 'quit') break;
      throw err;
    }
    if ('error' in r) throw new Error(`QMP ${c.execute}: ${JSON.stringify(r.error)}`);
    if (c.execute !== 'qmp_capabilities') out.push(r.return);
  }
  sock.destroy();
  return out;
}

/**
 * Starts a paused guest (`qemu-system-x86_64 -S`, TCG, no firmware run)
 * with each source as a virtio disk, asks QMP `query-block`, then quits.
 * Proves QEMU can open the volumes exactly as a driver would hand them over.
 */
export async function queryBlockInPausedGuest(
  sources: VolumeDiskSource[],
  o: { qemu?: string; whileRunning?: () => Promise<void> } = {},
): Promise<QueryBlockEntry[]> {
  const qemu = o.qemu ?? 'qemu-system-x86_64';
  const dir = mkdtempSync(join(tmpdir(), 'vk-qemu-'));
  const sock = join(dir, 'qmp.sock');
  const args = ['-S', '-machine', 'pc,accel=tcg', '-display', 'none', '-nodefaults', '-m', '64', '-qmp', `unix:${sock},server=on,wait=off`];
  sources.forEach((s, i) => {
    args.push('-blockdev', JSON.stringify(blockdevFor(s, `vkdisk${i}`)), '-device', `virtio-blk-pci,drive=vkdisk${i},id=disk${i}`);
  });
  const child = spawn(qemu, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  try {
    const end = Date.now() + 30000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`qemu exited (${child.exitCode}): ${stderr.trim()}`);
      try {
        const [blocks] = await qmp(sock, [{ execute: 'query-block' }]);
        // The guest holds its disks now: let the caller check what that blocks.
        await o.whileRunning?.();
        await qmp(sock, [{ execute: 'quit' }]);
        return blocks as QueryBlockEntry[];
      } catch (err) {
        if (Date.now() > end) throw new Error(`${(err as Error).message}; qemu: ${stderr.trim()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
  }
}
