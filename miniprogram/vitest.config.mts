import { defineConfig } from 'vitest/config';

// Unit tests of the platform adapters and services: plain TypeScript, no Taro runtime (its APIs are injected).
export default defineConfig({
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
});
