import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/virtkitd.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  // ssh2 is loaded only when an +ssh URI is opened.
  external: ['ssh2'],
});
