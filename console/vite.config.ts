import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// Served by the backend at /console (app/core/frontends.py); `npm run dev` proxies the API to a local `make run`.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', chunkSizeWarningLimit: 1500 },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
});
