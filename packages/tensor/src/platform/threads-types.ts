/** A started helper thread, as far as the wasm matmul needs to handle it. */
export interface HelperWorker {
  /** Stops the thread. */
  terminate(): void;
}
