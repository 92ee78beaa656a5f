export { buildQemuCommandLine, domainXmlToQemuArgv, needsFDC, type QemuCommandLine } from './build.js';
export { formatQemuArgs } from './argv.js';
export type { QemuCommandOptions, QemuFakeFds } from './options.js';
