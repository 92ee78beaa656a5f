export * from './tree.js';
export * from './parse.js';
export * from './write.js';
export * from './values.js';
export * from './keep.js';
export * from './xpath.js';
