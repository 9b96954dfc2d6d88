export * from "./simple-signing.js";
export * from "./gpg.js";
export * from "./cosign-keys.js";
export * from "./cosign.js";
export * from "./verify.js";
export * from "./registry-client.js";
export * from "./registry-extension.js";
