/** Weir's version, reported by /version and the OpenAPI document. */
export const WEIR_VERSION = '0.1.0';
