export * from './cleanup.js';
export * from './testkit.js';
export * from './qemu-guest.js';
export * from './fixtures/host.js';
export * from './fixtures/loop.js';
export * from './fixtures/lvm.js';
export * from './fixtures/tgtd.js';
export * from './fixtures/ganesha.js';
