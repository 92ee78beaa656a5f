export { probeAccelerator, accelProbeFirmware, type Accelerator, type AcceleratorProbe, type ProbeAcceleratorOptions } from './accel.js';
export { findQemuBinary, DEFAULT_QEMU_BINARY } from './binary.js';
export { binaryIdentity, defaultCacheDir, type BinaryIdentity } from './binary-id.js';
export { parseExitReason, readLogSince, SHUTDOWN_CAUSES, SHUTDOWN_TRACE_EVENT, type LogExitReason } from './log.js';
export { processAlive, readProcCmdline, readProcStat, type ProcStat } from './proc.js';
export {
  QemuProcess,
  checkQemuIdentity,
  type DestroyOptions,
  type QemuExitCause,
  type QemuExitInfo,
  type QemuLaunchOptions,
  type QemuRuntimeState,
} from './qemu-process.js';
