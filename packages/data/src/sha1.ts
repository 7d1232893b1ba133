import { createHash } from 'node:crypto';

/** Lower-case hex SHA-1 of `bytes` (what {@link DATA_HUB} entries record). */
export function sha1Hex(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}
