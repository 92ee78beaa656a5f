export * from './qmp/index.js';
export * from './process/index.js';
export * from './caps/index.js';
export * from './defaults/index.js';
