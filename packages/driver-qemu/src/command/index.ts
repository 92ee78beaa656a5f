export { buildQemuCommandLine, domainXmlToQemuArgv, needsFDC, type QemuCommandLine } from './build.js';
export { formatQemuArgs } from './argv.js';
export type { QemuCommandOptions, QemuFakeFds } from './options.js';
export { QemuDeviceBuilder, hotpluggableCpuProps, type HotpluggableCpuEntity } from './devices.js';
export type { BackendPart, DeviceParts } from './parts.js';
export type { JsonObject, JsonValue } from './json.js';
export { diskRemovalNames, sourceNodeNames, copyOnReadNodeName, type DiskRemoval, type SourceNodeNames } from './disk-nodes.js';
