// Node registry reads for the admin operations: the shared ones of src/redis/node-registry.ts.
export { heartbeatsAlive, nodeLiveness, parseClaimKey, parseInprogressKey, redisNowMs, registeredNodes } from '../redis/node-registry.js';
