// Files in Node: atomic writes, and safetensors reads that check the header before reading it all.
export { writeFileAtomic } from '../io/atomic.ts';
export { readFileChecked } from '../io/read-checked.ts';
