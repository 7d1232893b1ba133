/** Where progress lines go: `process.stderr`, or anything with a compatible `write`. */
export interface ProgressSink {
  write(text: string): unknown;
  /** On a terminal the line is redrawn in place; elsewhere only start and end lines are written. */
  isTTY?: boolean;
}

/** Formats a byte count as KiB/MiB for the progress line. */
function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** One progress line: `downloading NAME: 12.0 KiB / 174.3 KiB (7%)`. */
export function formatProgress(label: string, received: number, total: number | null): string {
  if (total === null || total <= 0) return `downloading ${label}: ${formatBytes(received)}`;
  const pct = Math.min(100, Math.floor((received / total) * 100));
  return `downloading ${label}: ${formatBytes(received)} / ${formatBytes(total)} (${pct}%)`;
}

/** Reports download progress to a sink, throttled so a fast download does not flood the terminal. */
export class ProgressReporter {
  private lastDraw = 0;
  private received = 0;

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly label: string,
    private readonly total: number | null,
  ) {
    // Non-terminals (CI logs) get one line up front instead of in-place redraws.
    if (sink && !sink.isTTY) sink.write(`${formatProgress(label, 0, total)}\n`);
  }

  /** Adds `bytes` received and redraws the line at most every 100 ms on a terminal. */
  advance(bytes: number): void {
    this.received += bytes;
    if (!this.sink || !this.sink.isTTY) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.sink.write(`\r${formatProgress(this.label, this.received, this.total)}`);
  }

  /** Writes the final line (always, so logs show the size that arrived). */
  finish(): void {
    if (!this.sink) return;
    const line = formatProgress(this.label, this.received, this.total);
    this.sink.write(this.sink.isTTY ? `\r${line}\n` : `${line} done\n`);
  }
}
