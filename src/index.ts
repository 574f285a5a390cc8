// Library entry point for producers and tools: the Client and the job codec.
export { Client, UnreplicatedWriteError, type ClientOptions, type EnqueueJob, type EnqueueResult } from './api/client.js';
export { uniqueLockFor, checkUniqueOption, type UniqueOption, type UniqueUntil, type UniqueLock } from './job/unique.js';
export { decodeJob, encodeNewJob, type Job, type NewJob } from './job/codec.js';
export type { JobContext, HandlerOptions, Perform } from './core/handlers.js';
export { TimeoutError } from './util/errors.js';
export { createWebHandler, type WebHandler, type WebOptions } from './web/handler.js';
