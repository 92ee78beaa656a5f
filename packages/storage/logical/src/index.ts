export * from './vgchange-command.js';
