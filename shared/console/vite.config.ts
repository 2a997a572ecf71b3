import { defineConfig } from 'vitest/config';

// Relative base: the built console works at the server root (local runner) and under any
// prefix (the cloud deploys index.html + config.json side by side).
export default defineConfig({
  base: './',
  build: { outDir: 'dist', target: 'es2022', sourcemap: false },
  server: { proxy: {} },
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
});
