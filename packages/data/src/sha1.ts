/**
 * Lower-case hex SHA-1 of `bytes` (what {@link DATA_HUB} entries record), from the Web Crypto API that
 * Node (globalThis.crypto) and browsers share. Browsers offer it only in secure contexts (https, or
 * http on localhost).
 */
export async function sha1Hex(bytes: Uint8Array): Promise<string> {
  // The cast: DOM's BufferSource excludes views of a SharedArrayBuffer, which a caller never passes here.
  const digest = await crypto.subtle.digest('SHA-1', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
