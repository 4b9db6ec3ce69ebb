import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: './',
  publicDir: path.join(root, 'public'),
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    // Old laptops run old browsers: transpile the syntax down (WebRTC itself is checked at runtime).
    target: 'es2019',
    sourcemap: true,
    // One small script, no inline code: the server's CSP forbids inline scripts.
    modulePreload: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  server: { strictPort: true },
});
