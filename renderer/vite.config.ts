// Vite config for the renderer (Svelte 5, runes). Built into dist/renderer with relative asset
// URLs (base './') so the same files load from file:// in Electron and over http in browser mode.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  // The web host serves the built files; no public/ folder to copy.
  publicDir: false,
  // Keep Vite's dev cache with the root's node_modules, not in renderer/.
  cacheDir: here('../node_modules/.vite/renderer'),
  plugins: [svelte()],
  build: {
    outDir: here('../dist/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // One small app: keep the chunk count low (file:// loads are cheap but not free).
    chunkSizeWarningLimit: 800,
  },
  server: {
    host: '127.0.0.1',
    // The renderer imports the contract's types from electron/shared.
    fs: { allow: [here('..')] },
  },
});
