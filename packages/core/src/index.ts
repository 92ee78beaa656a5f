export * from './errors.js';
export * from './uri.js';
export * from './paths.js';
export * from './events.js';
export * from './locks.js';
export * from './files.js';
export * from './xml/index.js';
