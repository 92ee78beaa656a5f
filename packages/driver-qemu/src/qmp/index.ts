export { QmpClient, type QmpConnectOptions, type QmpExecuteOptions, type QmpEventListener } from './client.js';
export { QmpCommandError } from './errors.js';
export type * from './types.js';
