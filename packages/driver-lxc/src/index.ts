export * from './domain-xml.js';
export * from './native/from-native.js';
export { readLxcConf, type LxcConfEntry } from './native/lxc-conf.js';
