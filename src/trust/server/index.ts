export { NotaryService, NotaryHttpError, type NotaryServiceOptions } from "./service.js";
export { createNotaryHandler, parseTrustPath, parseMultipart, type NotaryHandlerOptions } from "./http.js";
export { FsTrustStorage, MemoryTrustStorage, type TrustStorage } from "./storage.js";
export { serveTrust, type TrustServeOptions } from "./standalone.js";
