// Entry of a Piscina worker thread whose task module is TypeScript: loader hooks (tsx) do not reach
// worker threads, so the worker registers tsx itself, then loads the module workerData names.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
const { default: task } = await import(workerData.taskModule);
export default task;
