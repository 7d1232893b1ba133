/** Escaping for text that goes into SVG/XML, where user-chosen strings (series names, labels) end up. */

/** Characters XML 1.0 forbids outright; they would make the whole document unparseable, so they are dropped. */
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/**
 * Escapes `text` for use in XML element content or a quoted attribute value.
 *
 * @returns the text with `& < > " '` replaced by entities and XML-illegal control characters removed.
 */
export function escapeXml(text: string): string {
  return String(text)
    .replace(INVALID_XML_CHARS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
