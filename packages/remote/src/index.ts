import type { HypervisorDriverFactory } from '@virtkit/core';
import { openRemoteDriver } from './client/remote-driver.js';

export { openRemoteDriver, type RemoteDriver } from './client/remote-driver.js';
export { RpcClient, type RpcClientOptions, type CallExtras } from './client/rpc-client.js';
export { openTransport } from './client/open-transport.js';
export * from './protocol/schema.js';
export { checkArgs } from './protocol/args.js';
export { FrameType, FrameDecoder, encodeFrame, encodeJsonFrame, FRAME_HEADER, type Frame } from './protocol/frame.js';
export { clientHello, type Hello } from './protocol/hello.js';
export { parseKnownHosts, checkHostKey, knownHostName, patternsMatch, fingerprint, type KnownHostEntry, type HostKeyVerdict } from './transport/known-hosts.js';
export { Daemon, defaultSocketPaths, type DaemonOptions, type ListenSpec } from './daemon/daemon.js';
export { loadDaemonConfig, parseDaemonConfig, type DaemonConfig } from './daemon/config.js';
export { JsonLogger, type LogLevel } from './daemon/log.js';
export { dnAllowed, formatDn } from './daemon/tls-allow.js';

/** The plugin's entry: core's loader calls it for URIs with a transport or a host. */
const factory: HypervisorDriverFactory = (ctx) => openRemoteDriver(ctx);
export default factory;
