export * from './mount-command.js';
