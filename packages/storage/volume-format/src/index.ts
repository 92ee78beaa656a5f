export * from './formats.js';
export * from './qemu-img-command.js';
export * from './qemu-img-resize.js';
export * from './qemu-img-info.js';
export * from './run-qemu-img.js';
export * from './secret-file.js';
export * from './volume-ops.js';
