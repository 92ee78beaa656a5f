import type { DriverOpenContext } from '@virtkit/core';
import { openQemuDriver, type QemuHypervisorDriver } from './driver/factory.js';

export * from './qmp/index.js';
export * from './process/index.js';
export * from './caps/index.js';
export * from './driver/index.js';
export * from './defaults/index.js';
export * from './command/index.js';

/** The driver factory the plugin loader calls for `qemu:///…` URIs. */
export default function qemuDriverFactory(ctx: DriverOpenContext): Promise<QemuHypervisorDriver> {
  return openQemuDriver(ctx);
}
