export * from './start-command.js';
export * from './find-sources.js';
