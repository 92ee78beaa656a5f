import { registerLocalSubdrivers } from '../connection.js';
import { openLocalStorageDriver } from './local-driver.js';

export * from './backend.js';
export * from './names.js';
export * from './pool-options.js';
export * from './pool-store.js';
export * from './state-codec.js';
export * from './volume-jobs.js';
export * from './open-files.js';
export * from './source-conflicts.js';
export * from './local-driver.js';
export * from './volume-disk.js';

/**
 * Makes every local URI (qemu:///…, lxc:///…, storage:///…, embed roots)
 * get the local storage driver unless its hypervisor driver brings its
 * own. Done when core is imported; exported so the module is kept by
 * bundlers that drop side-effect-only modules.
 */
export function registerLocalStorageDriver(): void {
  registerLocalSubdrivers({
    storage: (uri, ctx) => openLocalStorageDriver(uri, { events: ctx.events, plugins: ctx.plugins }),
  });
}

registerLocalStorageDriver();
