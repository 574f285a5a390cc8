// Name rules shared by admin operations: the job layer's rules, under the names the api uses.
export { QUEUE_NAME, normalizeClass as normalizeClassName } from '../job/names.js';
