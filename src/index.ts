// The library: every feature the CLI offers is usable from code through these exports.
export * as image from "./image/index.js";
export * as lint from "./lint/index.js";
export * as dockerfile from "./dockerfile/index.js";
