export * from './qmp/index.js';
