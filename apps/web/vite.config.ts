import { defineConfig } from 'vite';

// React's automatic JSX runtime through Vite's own transformer: no extra plugin needed for a production build.
export default defineConfig({
  root: import.meta.dirname,
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1000 },
  server: { proxy: { '/api': 'http://localhost:8080', '/ajax-api': 'http://localhost:8080', '/get-artifact': 'http://localhost:8080' } },
});
