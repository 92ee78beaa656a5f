export * from './area.js';
export * from './compare.js';
export * from './manifest.js';
export * from './runner.js';
