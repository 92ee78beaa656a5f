import { defineConfig } from 'vitest/config';

// The tests build networks in network namespaces on the real kernel: one file at a time.
export default defineConfig({
  test: { fileParallelism: false, testTimeout: 60_000, hookTimeout: 60_000 },
});
