// Read by @sveltejs/vite-plugin-svelte and svelte-check. Svelte 5 compiles TypeScript in
// <script lang="ts"> itself, so no preprocessor is needed.
export default {
  compilerOptions: {
    runes: true,
  },
};
