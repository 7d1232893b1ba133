// A helper thread in Node: a worker_threads Worker running a script given as source text.

import type { HelperWorker } from './threads-types.ts';

interface NodeWorker {
  unref(): void;
  terminate(): unknown;
  on(event: 'error' | 'exit', listener: () => void): unknown;
}
interface WorkerThreads {
  Worker: new (source: string, options: { eval: true; workerData: unknown }) => NodeWorker;
}

const workerThreads = (): WorkerThreads | undefined => {
  try {
    return process.getBuiltinModule('node:worker_threads') as WorkerThreads | undefined;
  } catch {
    return undefined;
  }
};

/** Cores this process may use (os.availableParallelism), or 1 when worker threads are missing. */
export function helperCores(): number {
  if (workerThreads() === undefined) return 1;
  const os = process.getBuiltinModule('node:os') as { availableParallelism?: () => number } | undefined;
  return os?.availableParallelism?.() ?? 1;
}

/**
 * Starts `main(data)` on a new thread, where `main` is the source of a function expression. The worker
 * does not keep the process alive. Null where workers cannot be made.
 */
export function spawnHelper(main: string, data: unknown, onGone: () => void): HelperWorker | null {
  const threads = workerThreads();
  if (threads === undefined) return null;
  let worker: NodeWorker;
  try {
    const source = `const { workerData } = require('node:worker_threads');\n(${main})(workerData);`;
    worker = new threads.Worker(source, { eval: true, workerData: data });
  } catch {
    return null;
  }
  worker.unref();
  worker.on('error', onGone);
  worker.on('exit', onGone);
  return { terminate: () => void worker.terminate() };
}
