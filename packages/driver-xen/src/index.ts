export * from './conversion/index.js';
