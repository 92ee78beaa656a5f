import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DomainDef } from '@virtkit/core';
import type { QemuCapabilities } from '../caps/capabilities.js';
import { buildQemuCommandLine } from '../command/build.js';
import { sourceChain } from '../command/disk-nodes.js';
import type { QemuCommandOptions } from '../command/options.js';
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
  /** The block node index of each image of each disk, in the order of <disk>, top image first (for the live XML). */
  diskIndexes: Array<Array<number | undefined>>;
}

/**
 * What the command builder needs from a running domain's driver besides
 * the definition: the driver's folders, the domain id, and the key that
 * encrypts secrets on the command line (the per-run folder's
 * master-key.aes, which QEMU reads too). Start and hot-plug use the same.
 */
export function runtimeBuildOptions(ctx: QemuDriverContext, id: number, runDir: string | undefined): QemuCommandOptions {
  let masterKey: Uint8Array | undefined;
  if (runDir) {
    try {
      masterKey = readFileSync(join(runDir, 'master-key.aes'));
    } catch {
      // no key: secrets go unencrypted (none in most domains)
    }
  }
  return { config: ctx.config, domainId: id, ...(masterKey ? { masterKey } : {}) };
}

/**
 * The command line a real start uses: libvirt's, from src/command/
 * (buildQemuCommandLine), with what running without a daemon and without
 * descriptor passing asks for:
 * - the monitor is the socket QemuProcess binds and hands over as fd 3;
 * - tap NICs are opened by QEMU by name (the builder's way without
 *   descriptors): Node cannot open a tap (TUNSETIFF) or pass descriptors
 *   over QMP the way libvirt does, so the driver creates the tap first;
 * - no `-no-shutdown`: a guest that powers off ends QEMU by itself, since no
 *   daemon may be there to kill a stopped QEMU;
 * - `-trace qemu_system_shutdown_request`: the log records why QEMU ended
 *   (guest power-off vs crash), for whichever process looks next.
 */
export function runtimeCommandLine(ctx: QemuDriverContext, def: DomainDef, caps: QemuCapabilities, opts: RuntimeCommandOptions): RuntimeCommand {
  // The builder fills in what a start decides (addresses, aliases, ports): on a copy.
  const forBuilder = structuredClone(def);
  const built = buildQemuCommandLine(forBuilder, caps, {
    ...runtimeBuildOptions(ctx, opts.id, opts.runDir),
    monitorFd: MONITOR_FD,
    noShutdown: false,
    ...(opts.allocatePort ? { allocatePort: opts.allocatePort } : {}),
  });
  const args = [...built.args, '-trace', SHUTDOWN_TRACE_EVENT];
  if (opts.incoming) args.push('-incoming', opts.incoming);
  const graphics = forBuilder.devices.graphics.map((g) => ({
    ...(g.port !== undefined ? { port: g.port } : {}), ...(g.tlsPort !== undefined ? { tlsPort: g.tlsPort } : {}), ...(g.websocket !== undefined ? { websocket: g.websocket } : {}),
  }));
  const diskIndexes = forBuilder.devices.disks.map((disk) => sourceChain(disk.src).map((src) => src.index));
  return { args, env: Object.fromEntries(built.env), graphics, diskIndexes };
}

/** Puts the block node indexes a command line gave the disks' images into the live definition (`<source index>`). */
export function applyDiskIndexes(live: DomainDef, indexes: RuntimeCommand['diskIndexes']): void {
  live.devices.disks.forEach((disk, i) => {
    sourceChain(disk.src).forEach((src, depth) => {
      const index = indexes[i]?.[depth];
      if (index !== undefined) src.index = index;
    });
  });
}
