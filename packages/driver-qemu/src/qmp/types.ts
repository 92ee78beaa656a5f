/**
 * Shapes of what QEMU sends over QMP (qapi/control.json, qapi/run-state.json
 * and friends). Only what the driver reads is typed; everything else stays
 * `unknown` so a newer QEMU never breaks parsing.
 */

export interface QmpVersion {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

/** The first message on a QMP connection. */
export interface QmpGreeting {
  version: QmpVersion;
  capabilities: string[];
}

export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

/** Data of the asynchronous events the driver reacts to. */
export interface QmpEventDataMap {
  SHUTDOWN: { guest: boolean; reason: string };
  POWERDOWN: Record<string, never>;
  RESET: { guest: boolean; reason: string };
  STOP: Record<string, never>;
  RESUME: Record<string, never>;
  SUSPEND: Record<string, never>;
  WAKEUP: Record<string, never>;
  GUEST_PANICKED: { action: string; info?: Record<string, unknown> };
  DEVICE_DELETED: { device?: string; path: string };
  DEVICE_UNPLUG_GUEST_ERROR: { device?: string; path: string };
  BLOCK_JOB_COMPLETED: { type: string; device: string; len: number; offset: number; speed: number; error?: string };
  BLOCK_JOB_CANCELLED: { type: string; device: string; len: number; offset: number; speed: number };
  BLOCK_JOB_ERROR: { device: string; operation: string; action: string };
  BLOCK_JOB_READY: { type: string; device: string; len: number; offset: number; speed: number };
  BLOCK_JOB_PENDING: { type: string; id: string };
  JOB_STATUS_CHANGE: { id: string; status: string };
  BLOCK_IO_ERROR: { device: string; 'node-name'?: string; operation: string; action: string; nospace?: boolean; reason: string };
  MIGRATION: { status: string };
  MIGRATION_PASS: { pass: number };
  BALLOON_CHANGE: { actual: number };
  RTC_CHANGE: { offset: number; 'qom-path': string };
  WATCHDOG: { action: string };
  VSERPORT_CHANGE: { id: string; open: boolean };
  DEVICE_TRAY_MOVED: { device: string; id: string; 'tray-open': boolean };
  NIC_RX_FILTER_CHANGED: { name?: string; path: string };
  ACPI_DEVICE_OST: { info: Record<string, unknown> };
  MEMORY_DEVICE_SIZE_CHANGE: { id?: string; size: number; 'qom-path': string };
}

export type KnownQmpEventName = keyof QmpEventDataMap;

export interface QmpEvent<N extends string = string> {
  event: N;
  data: N extends KnownQmpEventName ? QmpEventDataMap[N] : Record<string, unknown>;
  timestamp: QmpTimestamp;
}

/** Reply of `query-status`. */
export interface QmpStatus {
  running: boolean;
  singlestep?: boolean;
  status: string;
}

/** One entry of `query-hotpluggable-cpus`. */
export interface QmpHotpluggableCpu {
  type: string;
  'vcpus-count': number;
  props: { 'node-id'?: number; 'socket-id'?: number; 'die-id'?: number; 'core-id'?: number; 'thread-id'?: number };
  'qom-path'?: string;
}

/** One entry of `query-cpus-fast`. */
export interface QmpCpuInfoFast {
  'cpu-index': number;
  'qom-path': string;
  'thread-id': number;
  props?: Record<string, number>;
  target: string;
}

/** Why the monitor connection ended. */
export interface QmpCloseInfo {
  /** `local`: we closed it; `peer`: QEMU closed it or died; `error`: a socket or protocol error. */
  by: 'local' | 'peer' | 'error';
  error?: Error;
  /** The last SHUTDOWN event seen on this connection, if any: tells a guest shutdown from a kill. */
  lastShutdown?: QmpEventDataMap['SHUTDOWN'];
}
