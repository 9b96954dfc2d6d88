// The shared image model: every other room speaks it. Imports nothing else of ours.
export * from "./errors.js";
export * from "./digest.js";
export * from "./media-types.js";
export * from "./manifest.js";
export * from "./platform.js";
export * from "./reference.js";
export * from "./copy.js";
export * from "./transports/index.js";
export * from "./transports/archive.js";
export * from "./rootfs.js";
export * as layers from "./layers/index.js";
