// Stylesheets imported by an entry point are bundled by esbuild next to its script.
declare module "*.css";
