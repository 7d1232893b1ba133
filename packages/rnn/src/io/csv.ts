/** CSV output for training logs (epoch, perplexity, ...) that spreadsheets and pandas read without fuss. */
import { PlotError } from './errors.ts';

/** Cells that must be quoted: separators, quotes, line breaks, or edge whitespace a reader might trim. */
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/**
 * Renders a CSV table (RFC 4180 quoting, `\n` line ends, trailing newline). Numbers use JavaScript's
 * shortest round-trip form; NaN and infinities are written `NaN`, `inf`, `-inf`, which Python's `float()`
 * and pandas both parse.
 *
 * @param header - column names.
 * @param rows - one array per row, each with exactly `header.length` cells.
 * @throws {@link PlotError} for a row of the wrong length or a cell that is neither string nor number.
 */
export function toCsv(header: string[], rows: (string | number)[][]): string {
  const lines = [header.map((cell, col) => formatCell(cell, 'header', col))];
  rows.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== header.length) {
      const got = Array.isArray(row) ? `${row.length} cells` : typeof row;
      throw new PlotError(`toCsv: row ${r} has ${got}, expected ${header.length} to match the header`);
    }
    lines.push(row.map((cell, col) => formatCell(cell, `row ${r}`, col)));
  });
  return lines.map((cells) => cells.join(',')).join('\n') + '\n';
}

function formatCell(cell: unknown, where: string, col: number): string {
  if (typeof cell === 'number') {
    if (Number.isNaN(cell)) return 'NaN';
    if (cell === Infinity) return 'inf';
    if (cell === -Infinity) return '-inf';
    return String(cell);
  }
  if (typeof cell !== 'string') {
    throw new PlotError(`toCsv: ${where} column ${col} is ${cell === null ? 'null' : typeof cell}, expected a string or number`);
  }
  return NEEDS_QUOTES.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}
