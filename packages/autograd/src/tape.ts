import { type OpRecord, type Tensor, engine, fmtShape, setRecorder } from '@tinytape/tensor';

/**
 * The tape: every op that touched a tensor requiring grad, in the order it ran. Because ops are
 * appended as they execute, the tape is already a topological order of the graph, so backward is a
 * single reverse walk over it — no recursion, however deep an unrolled sequence makes the graph.
 */
export interface TapeEntry extends OpRecord {
  /** Position in recording order, for printing. */
  index: number;
  /** Storage versions of inputs and output when recorded, to detect in-place overwrites. */
  versions: number[];
  /** How many scopes were open when the op ran; closing one of those drops the entry. */
  depth: number;
}

export const tape: TapeEntry[] = [];
/** Maps each recorded output to the entry that produced it. */
export const producer = new WeakMap<Tensor, TapeEntry>();
/** Outputs whose entry was dropped when their scope closed: backward through them is an error. */
export const released = new WeakSet<Tensor>();
let counter = 0;

function record(r: OpRecord): void {
  const entry: TapeEntry = {
    ...r,
    index: counter++,
    versions: [...r.inputs, r.output].map((t) => t.storage.version),
    depth: engine.scopes.length,
  };
  tape.push(entry);
  producer.set(r.output, entry);
}

/** Drops the entries recorded inside a scope that just closed: their tensors are being disposed. */
function onScopeClosed(depth: number): void {
  while (tape.length > 0 && tape[tape.length - 1]!.depth > depth) {
    const entry = tape.pop()!;
    producer.delete(entry.output);
    released.add(entry.output);
  }
}

/** Empties the tape (after a backward pass, which consumes the graph as PyTorch does). */
export function clearTape(): void {
  for (const entry of tape) producer.delete(entry.output);
  tape.length = 0;
}

let installed = false;

/** Connects the tape to the tensor engine. Runs once when the package is imported. */
export function installTape(): void {
  if (installed) return;
  installed = true;
  setRecorder(record);
  engine.scopeListeners.push(onScopeClosed);
}

/**
 * The tape as text, one line per recorded op: its index, name, input shapes (with tensor names such
 * as W_xh where set) and output shape. For teaching: print it after a forward pass to see the graph
 * that `backward()` will walk in reverse.
 */
export function formatTape(entries: readonly TapeEntry[] = tape): string {
  if (entries.length === 0) return '(empty tape)';
  const label = (t: Tensor): string => `${fmtShape(t.shape)}${t.name ? ` ${t.name}` : ` #${t.id}`}`;
  return entries
    .map((e) => {
      const attrs = Object.entries(e.attrs)
        .filter(([, v]) => v !== false && v !== undefined)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? fmtShape(v as number[]) : String(v)}`);
      const args = e.inputs.map(label).join(', ');
      return `${String(e.index).padStart(4)}  ${e.op.padEnd(12)} ${args}${attrs.length ? `  {${attrs.join(', ')}}` : ''}  ->  ${label(e.output)}`;
    })
    .join('\n');
}

/** Prints the tape to the console (see `formatTape`). */
export function printTape(): void {
  console.log(formatTape());
}
