/**
 * The `wait` preference of RFC 7240 `Prefer` headers, in seconds, capped at `max`.
 * Accepts several headers or comma-separated preferences, any case, optional quotes and
 * whitespace, and parameters after `;` (`Prefer: respond-async, wait=10`). Anything
 * unparseable, or a wait of 0, means "don't wait" (RFC 7240: ignore what you don't
 * understand).
 */
export function parsePreferWait(header: string | readonly string[] | undefined, max: number): number | undefined {
  if (header === undefined || max <= 0) return undefined;
  const preferences = (typeof header === 'string' ? [header] : header).flatMap((line) => line.split(','));
  for (const preference of preferences) {
    const [head = ''] = preference.split(';');
    const match = /^\s*wait\s*=\s*"?(\d{1,9})"?\s*$/i.exec(head);
    if (!match?.[1]) continue;
    const seconds = Math.min(Number(match[1]), max);
    return seconds > 0 ? seconds : undefined;
  }
  return undefined;
}
