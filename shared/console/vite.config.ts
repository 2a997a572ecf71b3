import { defineConfig } from 'vitest/config';

// `npm run dev` serves the console with hot reload and passes the API (and config.json) to a
// running local runner, MARKET_URL (default http://127.0.0.1:3100).
const target = process.env.MARKET_URL ?? 'http://127.0.0.1:3100';
const apiPrefixes = ['/listings', '/orders', '/me', '/pushes', '/admin', '/dev', '/health', '/config.json', '/legacy-listings', '/payments', '/partner'];

// Relative base: the built console works at the server root (local runner) and under any
// prefix (the cloud deploys index.html + config.json side by side).
export default defineConfig({
  base: './',
  build: { outDir: 'dist', target: 'es2022', sourcemap: false },
  server: { proxy: Object.fromEntries(apiPrefixes.map((p) => [p, { target, changeOrigin: true }])) },
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
});
