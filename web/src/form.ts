/*
 * The configuration form: filled from the URL's configuration, read back (with the URL contract's own
 * checks) when a run starts, and kept consistent as the model changes.
 */
import { type ModelName, type RunConfig, bookHidden, readConfig } from './config.ts';
import { byId } from './dom.ts';

/** Form field ids by config field; each holds the field's text, as the URL would. */
const FIELDS: Record<Exclude<keyof RunConfig, 'bidirectional'>, string> = {
  model: 'model',
  hidden: 'hidden',
  layers: 'layers',
  epochs: 'epochs',
  lr: 'lr',
  clip: 'clip',
  batchSize: 'batch',
  numSteps: 'steps',
  maxTokens: 'tokens',
  iterator: 'iterator',
  device: 'device',
  seed: 'seed',
};

type Field = HTMLInputElement | HTMLSelectElement;

/** Puts `config` into the form. */
export function fillForm(config: RunConfig): void {
  for (const [key, id] of Object.entries(FIELDS)) byId<Field>(id).value = String(config[key as keyof typeof FIELDS]);
  byId<HTMLInputElement>('bidirectional').checked = config.bidirectional;
  syncScratchFields();
}

/**
 * The form's configuration.
 *
 * @throws ConfigError naming the first bad field, as for a URL.
 */
export function readForm(): RunConfig {
  const raw = Object.fromEntries(Object.entries(FIELDS).map(([key, id]) => [key, byId<Field>(id).value.trim()]));
  return readConfig({ ...raw, bidirectional: byId<HTMLInputElement>('bidirectional').checked ? '1' : '0' });
}

/**
 * Keeps the form consistent as the model changes: the scratch models are one unidirectional layer,
 * and a hidden size still at the old model's book value moves to the new model's.
 */
export function watchModelField(): void {
  const model = byId<HTMLSelectElement>('model');
  let previous = model.value as ModelName;
  model.addEventListener('change', () => {
    const hidden = byId<HTMLInputElement>('hidden');
    if (hidden.value === String(bookHidden(previous))) hidden.value = String(bookHidden(model.value as ModelName));
    previous = model.value as ModelName;
    syncScratchFields();
  });
}

function syncScratchFields(): void {
  const scratch = byId<HTMLSelectElement>('model').value.startsWith('scratch');
  const layers = byId<HTMLInputElement>('layers');
  const bidirectional = byId<HTMLInputElement>('bidirectional');
  if (scratch) {
    layers.value = '1';
    bidirectional.checked = false;
  }
  layers.disabled = scratch;
  bidirectional.disabled = scratch;
}
