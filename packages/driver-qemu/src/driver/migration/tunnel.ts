import { mkdir, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VirtError } from '@virtkit/core';

/**
 * Tunnelled migration moves QEMU's stream through virtkit's own
 * connection: QEMU cannot be handed a descriptor over QMP from Node, so
 * each end talks to its QEMU over a unix socket in the run's folder. The
 * source listens and QEMU migrates to `unix:PATH`; the destination's QEMU
 * listens (`migrate-incoming unix:PATH`) and the driver writes into it.
 */
export async function listenForOutgoing(sockPath: string): Promise<{ server: Server; connection: Promise<Socket> }> {
  await rm(sockPath, { force: true });
  await mkdir(dirname(sockPath), { recursive: true, mode: 0o700 });
  let accept!: (s: Socket) => void;
  const connection = new Promise<Socket>((r) => (accept = r));
  const server = createServer((s) => {
    // One connection: QEMU's. Anything after it is refused.
    server.close();
    accept(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: sockPath, backlog: 1 }, () => resolve());
  });
  return { server, connection };
}

/** Writes the stream that came through the tunnel into the incoming QEMU; resolves once all of it is there. */
export async function feedIncoming(sockPath: string, data: Readable, domain: string): Promise<void> {
  const sock = await new Promise<Socket>((resolve, reject) => {
    const s = connect(sockPath);
    s.once('connect', () => resolve(s));
    s.once('error', (err) =>
      reject(new VirtError('OPERATION_FAILED', `domain '${domain}': the incoming QEMU does not listen for the tunnelled stream (${err.message})`, { origin: 'qemu', cause: err })),
    );
  });
  try {
    await pipeline(data, sock);
  } catch (err) {
    sock.destroy();
    throw err instanceof VirtError ? err : new VirtError('OPERATION_FAILED', `domain '${domain}': the tunnelled migration stream broke: ${(err as Error).message}`, { origin: 'qemu', cause: err });
  }
}
