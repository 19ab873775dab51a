export * from './queue.js';
export { createJobQueue, SqliteQueue, PostgresQueue } from './drivers.js';
