/**
 * A report as a list of blocks, rendered twice: as aligned plain text for the terminal and as
 * markdown for benchmarks/results/. Building the content once keeps the two from drifting apart.
 */
export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; headers: string[]; rows: string[][]; /** 'r' right-aligns a column (numbers). */ align: ('l' | 'r')[] };

export function toMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        out.push(`${'#'.repeat(b.level)} ${b.text}`, '');
        break;
      case 'text':
        out.push(b.text, '');
        break;
      case 'list':
        out.push(...b.items.map((i) => `- ${i}`), '');
        break;
      case 'table': {
        const esc = (s: string) => s.replace(/\|/g, '\\|');
        out.push(`| ${b.headers.map(esc).join(' | ')} |`);
        out.push(`| ${b.align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`);
        for (const row of b.rows) out.push(`| ${row.map(esc).join(' | ')} |`);
        out.push('');
        break;
      }
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export function toText(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        out.push(b.level === 1 ? `== ${b.text} ==` : b.level === 2 ? `-- ${b.text}` : b.text, '');
        break;
      case 'text':
        out.push(b.text, '');
        break;
      case 'list':
        out.push(...b.items.map((i) => `  * ${i}`), '');
        break;
      case 'table': {
        const widths = b.headers.map((h, c) => Math.max(width(h), ...b.rows.map((r) => width(r[c] ?? ''))));
        const line = (cells: string[]) =>
          `  ${cells.map((cell, c) => (b.align[c] === 'r' ? pad(cell, widths[c]!, true) : pad(cell, widths[c]!, false))).join('  ')}`.trimEnd();
        out.push(line(b.headers), `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
        for (const row of b.rows) out.push(line(row));
        out.push('');
        break;
      }
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Display width, counting each code point once (µ, ×, ÷, ³ are one column). */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return right ? fill + s : s + fill;
}
