/** libvirt domain XML: typed model, parse, format, validate. */
export * from './context.js';
export * from './reader.js';
export * from './writer.js';
export * from './domain.js';
export * from './memory.js';
export * from './vcpu.js';
export * from './cputune.js';
export * from './os.js';
export * from './features.js';
export * from './cpu.js';
export * from './clock.js';
export * from './lifecycle.js';
export * from './security.js';
export * from './postparse.js';
export * from './validate.js';
export * from './devices/index.js';
