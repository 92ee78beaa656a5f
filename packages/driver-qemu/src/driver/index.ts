export { openQemuDriver, QEMU_CAPABILITIES, type QemuHypervisorDriver } from './factory.js';
export { QemuDomains, type ActiveJob } from './domains.js';
export { QemuDriverContext, type QemuDriverSettings } from './context.js';
export { QemuPaths, shortName } from './paths.js';
export { domainXmlToQemuArgvLine } from './native.js';
export { DomainStore } from './store.js';
export { startAutostartDomains, autostartOncePerBoot, type AutostartResult } from './autostart.js';
export { encodeSaveImageStart, decodeSaveImageHeader, readSaveImageStart, SAVE_MAGIC, SAVE_PARTIAL, SAVE_HEADER_SIZE, type SaveImageHeader } from './save-image.js';
export type { DomainRecord, ConsoleEndpoint, HostNicRecord } from './record.js';
