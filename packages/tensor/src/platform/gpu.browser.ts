// WebGPU in a browser comes only from `navigator.gpu`, which the backend reads itself: there is nothing
// to load.

/** No GPU besides `navigator.gpu` in a browser. */
export async function platformGpu(): Promise<GPU | null> {
  return null;
}
