export { qemuParserConfig, qemuEmulatorForArch, type QemuParserConfigOptions } from './parser-config.js';
export { defaultQemuDriverConfig, type QemuDriverConfig, type HugetlbfsMount } from './config.js';
export { assignQemuAddresses } from './addresses.js';
export { qemuXmlNamespace, qemuNamespaceData, QEMU_NAMESPACE_URI, type QemuNamespaceData } from './namespace.js';
export { defaultFirmwareDirs, fillFirmware, firmwareMatches, loadFirmwareDescriptors, type FirmwareDescriptor } from './firmware.js';
