import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Real QEMU processes: generous per-test limits, files one after another on 2 cores.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: false,
    server: {
      deps: {
        // The remote and storage plugins are imported by core's loader with Node's own import(): the
        // tests must see the same @virtkit/core module (one VirtError class), so it is not inlined.
        external: [/\/packages\/core\/dist\//, /\/packages\/driver-[a-z]+\/dist\//],
      },
    },
  },
});
