/** Advertiser rules, pure. */

/**
 * The canonical IANA name of `zone` as Intl knows it ("europe/paris" → "Europe/Paris"),
 * or undefined when it is none. Offsets such as "+02:00" are refused: a fixed offset
 * ignores daylight saving, which the days of a campaign follow.
 */
export function canonicalTimeZone(zone: string): string | undefined {
  if (zone.trim() !== zone || /^[+-]\d/.test(zone)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
