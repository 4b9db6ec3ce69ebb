import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { BROWSER_TARGETS } from './browserTargets.js';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: './',
  publicDir: path.join(root, 'public'),
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    // Old laptops and phones run old browsers: syntax is lowered for the oldest supported one
    // (WebRTC itself is checked at runtime, and a page says so in words when it is missing).
    target: BROWSER_TARGETS,
    sourcemap: true,
    // One small script, no inline code: the server's CSP forbids inline scripts.
    modulePreload: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  server: { strictPort: true },
});
