import { defineConfig } from 'vitest/config';

// Tests start real host components (loop devices, mounts, daemons): one file at a time.
export default defineConfig({
  test: { fileParallelism: false, testTimeout: 60_000, hookTimeout: 120_000 },
});
