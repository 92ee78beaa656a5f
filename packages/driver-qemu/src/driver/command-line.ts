import type { DomainDef } from '@virtkit/core';
import type { QemuCapabilities } from '../caps/capabilities.js';
import type { Accelerator } from '../process/accel.js';
import { SHUTDOWN_TRACE_EVENT } from '../process/log.js';
import type { QemuDriverContext } from './context.js';
import { interimCommandLine } from './interim-command.js';

/** The descriptor QemuProcess hands QEMU its monitor socket on. */
export const MONITOR_FD = 3;

export interface RuntimeCommandOptions {
  /** The running domain's id (per-run paths use it). */
  id: number;
  accel: Accelerator;
  /** `-incoming` source (restore: `fd:4`). */
  incoming?: string;
}

export interface RuntimeCommand {
  args: string[];
  env: Record<string, string>;
}

/**
 * The command line a real start uses: the domain's command line as libvirt
 * builds it, with what running without a daemon changes:
 * - no `-no-shutdown`: a guest that powers off ends QEMU by itself, since
 *   no daemon may be there to kill a stopped QEMU;
 * - `-trace qemu_system_shutdown_request`: the log records why QEMU ended
 *   (guest power-off vs crash), for whichever process looks next.
 */
export function runtimeCommandLine(ctx: QemuDriverContext, def: DomainDef, caps: QemuCapabilities, opts: RuntimeCommandOptions): RuntimeCommand {
  void ctx;
  void caps;
  const args = interimCommandLine(def, { accel: opts.accel, monitorFd: MONITOR_FD }).filter((a) => a !== '-no-shutdown');
  args.push('-trace', SHUTDOWN_TRACE_EVENT);
  if (opts.incoming) args.push('-incoming', opts.incoming);
  const env: Record<string, string> = { LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  return { args, env };
}
