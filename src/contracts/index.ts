/**
 * The product's shapes, defined once in zod: routes validate and document with them (OpenAPI is
 * generated from them), the store's mappers return them, the sync service and the CLI use their
 * inferred types. Nothing here does I/O or imports from another layer.
 */
export * from './audit.js';
export * from './common.js';
export * from './deployments.js';
export * from './error-codes.js';
export * from './errors.js';
export * from './jobs.js';
export * from './json.js';
export * from './kinds.js';
export * from './mirrors.js';
export * from './namespaces.js';
export * from './plans.js';
export * from './resources.js';
export * from './sources.js';
export * from './tokens.js';
export * from './events.js';
export * from './subscriptions.js';
export * from './cluster.js';
export * from './webhooks.js';
