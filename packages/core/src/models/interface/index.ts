export * from './types.js';
export { parseInterfaceXml, interfaceFromElement, type InterfaceParseOptions } from './parse.js';
export { formatInterfaceXml } from './format.js';
