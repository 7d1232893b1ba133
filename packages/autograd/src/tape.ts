import { type ClosingScope, type OpRecord, type Tensor, engine, fmtShape, setRecorder } from '@tinytape/tensor';

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
/** How many tape entries refer to each tensor (as an input or the output). */
const references = new Map<Tensor, number>();
/** Tensors whose scope closed while the tape still needed them: the tape disposes them when done. */
const adopted = new Set<Tensor>();
let counter = 0;

/**
 * The entry's tensors, each once: its inputs (x once in mul(x, x)) and its output. Written as loops
 * because it runs twice for every op of a training step (when recorded and when released).
 */
function tensorsOf(entry: OpRecord): Tensor[] {
  const { inputs, output } = entry;
  const distinct: Tensor[] = [];
  for (const t of inputs) if (t !== output && !distinct.includes(t)) distinct.push(t);
  distinct.push(output);
  return distinct;
}

function record(r: OpRecord): void {
  const { op, inputs, output, attrs } = r;
  const versions: number[] = [];
  for (const t of inputs) versions.push(t.storage.version);
  versions.push(output.storage.version);
  const entry: TapeEntry = { op, inputs, output, attrs, index: counter++, versions, depth: engine.scopes.length };
  tape.push(entry);
  producer.set(output, entry);
  for (const t of tensorsOf(entry)) references.set(t, (references.get(t) ?? 0) + 1);
}

/** Forgets an entry, freeing the adopted tensors no other entry needs. */
function release(entry: TapeEntry): void {
  if (producer.get(entry.output) === entry) producer.delete(entry.output);
  for (const t of tensorsOf(entry)) {
    const n = (references.get(t) ?? 1) - 1;
    if (n > 0) references.set(t, n);
    else {
      references.delete(t);
      if (adopted.delete(t)) t.dispose();
    }
  }
}

/**
 * When a scope closes, the entries recorded inside it are kept only if a surviving tensor's gradient
 * can flow through them (a loss returned from the scope for backward later, or a composite op's
 * result); the rest are dropped. Tensors the kept entries need but the scope would dispose are
 * adopted by the tape, so `backward` can still read them, and freed when the tape lets go.
 */
function onScopeClosed({ depth, created, survivors }: ClosingScope): Tensor[] {
  let first = tape.length;
  while (first > 0 && tape[first - 1]!.depth > depth) first--;
  const inner = tape.splice(first);
  const needed = new Set<Tensor>([...survivors].filter((t) => t.requiresGrad));
  const kept: TapeEntry[] = [];
  for (let i = inner.length - 1; i >= 0; i--) {
    const entry = inner[i]!;
    if (needed.has(entry.output)) {
      for (const t of entry.inputs) needed.add(t);
      entry.depth = depth;
      kept.push(entry);
    } else release(entry);
  }
  tape.push(...kept.reverse());
  const taken: Tensor[] = [];
  for (const entry of kept) {
    for (const t of tensorsOf(entry)) {
      if (created.has(t) && !survivors.has(t) && !adopted.has(t)) {
        adopted.add(t);
        taken.push(t);
      }
    }
  }
  return taken;
}

/** Empties the tape (after a backward pass, which consumes the graph as PyTorch does). */
export function clearTape(): void {
  const entries = tape.splice(0);
  for (const entry of entries) release(entry);
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
