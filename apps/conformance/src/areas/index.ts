import type { ConformanceArea } from '../area.js';

/**
 * The areas virtkit implements, loaded on demand. An area folder with no
 * entry here still runs: every row fails as "not implemented".
 */
export const AREAS: Record<string, () => Promise<ConformanceArea>> = {};
