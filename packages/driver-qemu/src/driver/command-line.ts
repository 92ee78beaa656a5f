import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtError, type DomainDef } from '@virtkit/core';
import type { QemuCapabilities } from '../caps/capabilities.js';
import { buildQemuCommandLine } from '../command/build.js';
import type { Accelerator } from '../process/accel.js';
import { SHUTDOWN_TRACE_EVENT } from '../process/log.js';
import type { QemuDriverContext } from './context.js';

/** The descriptor QemuProcess hands QEMU its monitor socket on. */
export const MONITOR_FD = 3;

export interface RuntimeCommandOptions {
  /** The running domain's id (per-run paths use it); -1 for `domxml-to-native`. */
  id: number;
  accel: Accelerator;
  /** `-incoming` source (restore: `fd:4`). */
  incoming?: string;
  /** The per-run folder holding master-key.aes (its key encrypts secrets on the command line). */
  runDir?: string;
  /** Ports for auto-port graphics (libvirt's placeholders when absent). */
  allocatePort?: (kind: 'display' | 'websocket') => number;
}

export interface RuntimeCommand {
  args: string[];
  env: Record<string, string>;
  /** The ports the graphics got, in the order of <graphics> (for the live XML). */
  graphics: Array<{ port?: number; tlsPort?: number; websocket?: number }>;
}

const TAP_TYPES = new Set(['bridge', 'network', 'ethernet']);

/**
 * The command line a real start uses: libvirt's, from src/command/
 * (buildQemuCommandLine), with what running without a daemon and without
 * descriptor passing changes:
 * - the monitor is the socket QemuProcess binds and hands over as fd 3;
 * - tap NICs are opened by QEMU by name (`ifname=…,script=no`): Node cannot
 *   open a tap (TUNSETIFF) or pass descriptors over QMP the way libvirt does,
 *   so the driver creates the tap and QEMU attaches to it;
 * - no `-no-shutdown`: a guest that powers off ends QEMU by itself, since no
 *   daemon may be there to kill a stopped QEMU;
 * - `-trace qemu_system_shutdown_request`: the log records why QEMU ended
 *   (guest power-off vs crash), for whichever process looks next.
 */
export function runtimeCommandLine(ctx: QemuDriverContext, def: DomainDef, caps: QemuCapabilities, opts: RuntimeCommandOptions): RuntimeCommand {
  // Tap NICs go to the builder as user NICs; their -netdev is replaced below.
  const taps = new Map<string, string>();
  const forBuilder = structuredClone(def);
  for (const net of forBuilder.devices.interfaces) {
    if (!TAP_TYPES.has(net.type)) continue;
    const alias = net.info.alias;
    if (opts.id >= 0 && (!alias || !net.ifname)) throw new VirtError('INTERNAL_ERROR', `interface ${net.mac} of domain '${def.name}' has no tap device`, { origin: 'qemu' });
    taps.set(`host${alias ?? `net${taps.size}`}`, net.ifname ?? `vnet${taps.size}`);
    net.type = 'user';
  }
  let masterKey: Uint8Array | undefined;
  if (opts.runDir) {
    try {
      masterKey = readFileSync(join(opts.runDir, 'master-key.aes'));
    } catch {
      // no key: secrets go unencrypted (none in most domains)
    }
  }
  const built = buildQemuCommandLine(forBuilder, caps, {
    config: ctx.config,
    domainId: opts.id,
    ...(masterKey ? { masterKey } : {}),
    ...(opts.allocatePort ? { allocatePort: opts.allocatePort } : {}),
  });
  const args: string[] = [];
  for (let i = 0; i < built.args.length; i++) {
    const a = built.args[i]!;
    const next = built.args[i + 1];
    if (a === '-no-shutdown') continue;
    if (a === '-chardev' && next?.startsWith('socket,id=charmonitor,')) {
      args.push(a, `socket,id=charmonitor,fd=${MONITOR_FD},server=on,wait=off`);
      i++;
      continue;
    }
    if (a === '-netdev' && next?.startsWith('{')) {
      const nd = JSON.parse(next) as { type?: string; id?: string };
      const tap = nd.id ? taps.get(nd.id) : undefined;
      if (tap) {
        args.push(a, JSON.stringify({ type: 'tap', ifname: tap, script: 'no', downscript: 'no', id: nd.id }));
        i++;
        continue;
      }
    }
    args.push(a);
  }
  args.push('-trace', SHUTDOWN_TRACE_EVENT);
  if (opts.incoming) args.push('-incoming', opts.incoming);
  const graphics = forBuilder.devices.graphics.map((g) => ({
    ...(g.port !== undefined ? { port: g.port } : {}), ...(g.tlsPort !== undefined ? { tlsPort: g.tlsPort } : {}), ...(g.websocket !== undefined ? { websocket: g.websocket } : {}),
  }));
  return { args, env: Object.fromEntries(built.env), graphics };
}
