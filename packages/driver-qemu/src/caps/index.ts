export { QemuCapabilities } from './capabilities.js';
export { QapiSchema } from './qapi-schema.js';
export { capsFromExchanges, parseRepliesFile, machinesFromReply, cpuModelsFromReply } from './from-exchanges.js';
export { capsDataFromLibvirtXml, loadLibvirtCapsDump } from './from-xml.js';
export { deriveFlags, PROBED_DEVICE_TYPES, PROBED_OBJECT_TYPES, type FlagInputs } from './flags.js';
export type * from './types.js';
export { probeQemuCaps, type ProbeQemuCapsOptions } from './probe.js';
