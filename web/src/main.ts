/*
 * The page: reads the URL contract, wires the form, the text source, the chart and the panels to the
 * training worker, and reports each run's end in `document.body.dataset.state` and #result.
 */
import { PerplexityChart } from './chart.ts';
import { checkpointPanel } from './checkpoint-panel.ts';
import { type DeviceChoice, type RunConfig, type UrlSettings, DEFAULTS, describeModel, parseUrl, toQuery } from './config.ts';
import { byId, clearError, setState, showError } from './dom.ts';
import { fillForm, readForm, watchModelField } from './form.ts';
import type { DeviceReport, FromWorker, TextSource, ToWorker } from './protocol.ts';
import { bookSource, checkBookServed, readTextFile, watchTextFiles } from './text-input.ts';

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (message: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(message, transfer);

const chart = new PerplexityChart(byId('chart') as unknown as SVGSVGElement);
// A loaded checkpoint runs on the device chosen in the form (its select always holds a valid choice).
const panel = checkpointPanel(send, () => byId<HTMLSelectElement>('device').value as DeviceChoice);
const buttons = {
  train: byId<HTMLButtonElement>('train'),
  stop: byId<HTMLButtonElement>('stop'),
  continue: byId<HTMLButtonElement>('continue'),
};

/** The user's own text when one was accepted; null trains on The Time Machine. */
let ownText: Extract<TextSource, { kind: 'bytes' }> | null = null;
/** The configuration of the run shown, and its epochs so far. */
let current: { config: RunConfig; epochs: number } | null = null;

function setButtons(training: boolean): void {
  buttons.train.disabled = training;
  buttons.stop.disabled = !training;
  buttons.continue.disabled = training || current === null || current.epochs === 0;
}

function start(): void {
  let config: RunConfig;
  try {
    config = readForm();
  } catch (error) {
    showError((error as Error).message);
    return;
  }
  clearError();
  current = { config, epochs: 0 };
  history.replaceState(null, '', `${location.pathname}${toQuery(config)}`);
  chart.reset(`${describeModel(config)}, ${config.hidden} hidden, ${config.iterator} iterator`, config.epochs);
  for (const id of ['samples', 'tape', 'profile', 'result', 'progress']) byId(id).textContent = '';
  byId('device-line').textContent = 'choosing a device…';
  panel.setCanSave(false);
  setState('training');
  setButtons(true);
  // A copy of the user's bytes, so the page keeps its own for the next run.
  const text: TextSource = ownText === null ? bookSource() : { ...ownText, bytes: ownText.bytes.slice() };
  send({ type: 'train', config, text }, text.kind === 'bytes' ? [text.bytes.buffer] : []);
}

function goOn(): void {
  if (current === null) return;
  let epochs: number;
  try {
    epochs = readForm().epochs;
  } catch (error) {
    showError((error as Error).message);
    return;
  }
  if (epochs <= current.epochs) {
    byId('progress').textContent = `already ${current.epochs} epochs: raise "epochs" to train further`;
    return;
  }
  clearError();
  chart.extend(epochs);
  setState('training');
  setButtons(true);
  send({ type: 'continue', epochs });
}

function showDevice(report: DeviceReport): void {
  const name = report.kind === 'webgpu' ? `WebGPU on ${report.adapter}` : `CPU (wasm, ${report.threads} thread${report.threads > 1 ? 's' : ''})`;
  byId('device-line').textContent = `Device: ${name} — ${report.reason}.`;
  byId('device-line').dataset.device = report.kind;
}

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  if (panel.handle(message)) return;
  switch (message.type) {
    case 'device':
      showDevice(message.report);
      return;
    case 'text':
      byId('text-line').textContent = `Training on ${message.label}: ${message.tokens.toLocaleString('en')} tokens, vocabulary of ${message.vocabSize}.`;
      return;
    case 'tape':
      byId('tape').textContent = `${message.ops} ops recorded by the forward pass and loss of one batch; backward() walks them in reverse.\n\n${message.text}`;
      return;
    case 'epoch':
      if (current !== null) current.epochs = message.epoch;
      chart.add(message.epoch, message.perplexity);
      byId('progress').textContent = `epoch ${message.epoch}/${message.of} · perplexity ${message.perplexity.toFixed(2)} · ${Math.round(message.tokensPerSec).toLocaleString('en')} tokens/s`;
      panel.setCanSave(true);
      return;
    case 'sample':
      addSample(`epoch ${message.epoch}`, message.text);
      return;
    case 'profile':
      byId('profile').textContent = `Kernels of epoch ${message.epoch}:\n\n${message.text}`;
      return;
    case 'stopped':
      setState('stopped');
      setButtons(false);
      byId('progress').textContent += ' · stopped';
      return;
    case 'done':
      addSample(`end (epoch ${message.summary.epochs})`, message.summary.sample);
      byId('result').textContent = JSON.stringify(message.summary);
      setState('done');
      setButtons(false);
      return;
    case 'error':
      showError(message.message);
      setButtons(false);
      return;
  }
};

worker.onerror = (event) => {
  showError(`the training worker failed: ${event.message || 'it could not be loaded'}`);
  setButtons(false);
};

function addSample(when: string, text: string): void {
  const item = document.createElement('li');
  const label = document.createElement('span');
  label.className = 'when';
  label.textContent = `${when}: `;
  const body = document.createElement('q');
  body.textContent = text;
  item.append(label, body);
  byId('samples').append(item);
}

async function chooseText(file: File): Promise<void> {
  const status = byId('text-status');
  const read = await readTextFile(file);
  if ('problem' in read) {
    status.textContent = read.problem;
    status.className = 'error';
    byId('text-status').dataset.accepted = 'false';
    return;
  }
  ownText = read.source as Extract<TextSource, { kind: 'bytes' }>;
  status.textContent = `Using your file ${file.name} (${file.size.toLocaleString('en')} bytes), cleaned as d2l cleans The Time Machine.`;
  status.className = '';
  status.dataset.accepted = 'true';
  byId<HTMLButtonElement>('use-book').hidden = false;
}

async function showBook(): Promise<void> {
  const { ok, message } = await checkBookServed();
  if (ownText !== null) return;
  const status = byId('text-status');
  status.textContent = message;
  status.className = ok ? '' : 'error';
}

function init(): void {
  // Enter in a field would submit the form and reload the page.
  byId('config').addEventListener('submit', (event) => event.preventDefault());
  buttons.train.addEventListener('click', start);
  buttons.stop.addEventListener('click', () => {
    buttons.stop.disabled = true;
    send({ type: 'stop' });
  });
  buttons.continue.addEventListener('click', goOn);
  watchTextFiles(document.body, byId<HTMLInputElement>('text-file'), (file) => void chooseText(file));
  byId('use-book').addEventListener('click', () => {
    ownText = null;
    byId('use-book').hidden = true;
    void showBook();
  });
  void showBook();
  setButtons(false);
  let settings: UrlSettings | null = null;
  let urlProblem = '';
  try {
    settings = parseUrl(location.search);
  } catch (error) {
    urlProblem = (error as Error).message;
  }
  fillForm(settings?.config ?? DEFAULTS);
  watchModelField();
  if (settings === null) {
    showError(`this page's URL: ${urlProblem}`);
    return;
  }
  setState('idle');
  if (settings.autostart) start();
}

init();
