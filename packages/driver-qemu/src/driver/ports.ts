import { createServer } from 'node:net';
import type { DomainDef } from '@virtkit/core';

// Ports handed out by this process and not yet taken by a QEMU (two starts at once must not pick the same).
const reserved = new Set<number>();

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

async function take(from: number, to: number): Promise<number | undefined> {
  for (let p = from; p <= to; p++) {
    if (reserved.has(p)) continue;
    if (await isFree(p)) {
      reserved.add(p);
      return p;
    }
  }
  return undefined;
}

/** Display (5900–65535) and websocket (5700–5899) ports for a domain's auto-port graphics, as libvirt's port allocator gives them. */
export interface GraphicsPorts {
  allocate(kind: 'display' | 'websocket'): number;
  /** Forget the reservations once QEMU holds the ports (or failed). */
  release(): void;
}

export async function reserveGraphicsPorts(def: DomainDef): Promise<GraphicsPorts | undefined> {
  let display = 0;
  let websocket = 0;
  for (const g of def.devices.graphics) {
    if (g.type === 'vnc') {
      if (g.autoport) display++;
      if (g.websocket === -1) websocket++;
    } else if (g.type === 'spice') display += 2;
  }
  if (display + websocket === 0) return undefined;
  const pools = { display: [] as number[], websocket: [] as number[] };
  for (let i = 0; i < display; i++) {
    const p = await take(5900, 65535);
    if (p !== undefined) pools.display.push(p);
  }
  for (let i = 0; i < websocket; i++) {
    const p = await take(5700, 5899);
    if (p !== undefined) pools.websocket.push(p);
  }
  const all = [...pools.display, ...pools.websocket];
  return {
    allocate: (kind) => pools[kind].shift() ?? (kind === 'display' ? 5900 : 5700),
    release: () => {
      for (const p of all) reserved.delete(p);
    },
  };
}
