/*
 * Checkpoints and generation: download the trained model as safetensors (the CLI's format), load a
 * checkpoint file, and continue a prefix with the last model trained or loaded — greedy as d2l's
 * `predict_ch8`, or sampled at a temperature.
 */
import { byId, download } from './dom.ts';
import type { DeviceChoice } from './config.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

/** The panel's side of the worker's messages. */
export interface CheckpointPanel {
  /** Handles a checkpoint, load, generation or their errors; false for any other message. */
  handle(message: FromWorker): boolean;
  /** Whether there is a model to save (a run has trained at least one epoch). */
  setCanSave(can: boolean): void;
}

/** Wires the panel's buttons; `device` gives the device a loaded checkpoint runs on. */
export function checkpointPanel(send: (message: ToWorker, transfer?: Transferable[]) => void, device: () => DeviceChoice): CheckpointPanel {
  const save = byId<HTMLButtonElement>('save');
  const status = byId('checkpoint-status');
  const generate = byId<HTMLButtonElement>('generate');
  const output = byId('generated');
  save.addEventListener('click', () => {
    save.disabled = true;
    status.textContent = 'preparing the checkpoint…';
    send({ type: 'save' });
  });
  byId<HTMLInputElement>('checkpoint-file').addEventListener('change', async (event) => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file === undefined) return;
    status.textContent = `loading ${file.name}…`;
    const bytes = new Uint8Array(await file.arrayBuffer());
    send({ type: 'load', bytes, name: file.name, device: device() }, [bytes.buffer]);
  });
  generate.addEventListener('click', () => {
    const problem = readGenerateFields();
    if (typeof problem === 'string') {
      output.textContent = problem;
      output.className = 'error';
      return;
    }
    generate.disabled = true;
    output.className = '';
    output.textContent = 'generating…';
    send({ type: 'generate', ...problem });
  });
  return {
    handle(message) {
      switch (message.type) {
        case 'checkpoint':
          download(message.bytes, message.fileName);
          status.textContent = `saved ${message.fileName} (${message.bytes.length.toLocaleString('en')} bytes): tinytape generate --checkpoint ${message.fileName} reads it, and so does PyTorch (safetensors)`;
          save.disabled = false;
          return true;
        case 'loaded':
          status.textContent = `loaded ${message.description}; generate below continues with it`;
          return true;
        case 'generated':
          output.className = '';
          output.textContent = message.text;
          byId('generate-note').textContent = message.note ?? '';
          generate.disabled = false;
          return true;
        case 'error':
          if (message.during === 'generate') {
            output.className = 'error';
            output.textContent = message.message;
            generate.disabled = false;
            return true;
          }
          if (message.during === 'save' || message.during === 'load') {
            status.textContent = message.message;
            status.className = 'error';
            save.disabled = false;
            return true;
          }
          return false;
        default:
          return false;
      }
    },
    setCanSave(can) {
      save.disabled = !can;
      if (can) status.className = '';
    },
  };
}

/** The generation fields, checked: prefix, length, temperature (empty: greedy) and seed; or a message. */
function readGenerateFields(): { prefix: string; length: number; temperature: number | null; seed: number } | string {
  const prefix = byId<HTMLInputElement>('prefix').value;
  const length = Number(byId<HTMLInputElement>('length').value);
  const temperatureText = byId<HTMLInputElement>('temperature').value.trim();
  const temperature = temperatureText === '' ? null : Number(temperatureText);
  const seed = Number(byId<HTMLInputElement>('sample-seed').value || '0');
  if (prefix.length === 0) return 'give a prefix of at least one character';
  if (!Number.isInteger(length) || length < 0 || length > 100_000) return 'length: expected an integer from 0 to 100000';
  if (temperature !== null && !(Number.isFinite(temperature) && temperature > 0)) return 'temperature: expected a number > 0, or empty for greedy (argmax) generation';
  if (!Number.isInteger(seed) || seed < 0) return 'seed: expected an integer >= 0';
  return { prefix, length, temperature, seed };
}
