// The console is served by admin under /console; assets get content hashes so admin can cache them forever.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/console/",
  // JSX through esbuild's automatic runtime, pointed at Preact (no React plugin needed).
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // admin's CSP forbids inline script: keep everything in hashed files.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
  },
});
