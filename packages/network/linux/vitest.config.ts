import { defineConfig } from 'vitest/config';

// Tests that touch the kernel (namespaces, bridges, nftables) run one file at a time.
export default defineConfig({
  test: { fileParallelism: false, testTimeout: 60_000, hookTimeout: 60_000 },
});
