/** libvirt host capabilities XML: typed model, parse, format, lookups. */
export * from './capabilities.js';
