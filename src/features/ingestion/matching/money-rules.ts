/**
 * Exact money: amounts as integer ticks of 10^-7 of the currency unit (BigInt), the
 * precision of `campaigns.spent_precise`. Rates have 4 decimals and a CPM impression
 * costs rate / 1000, so every price is a whole number of ticks and no rounding ever
 * happens: spend is the exact sum of the prices charged. Pure.
 */
export const TICK_DECIMALS = 7;
const SCALE = 10n ** BigInt(TICK_DECIMALS);

/** "12.3456" → 123456000n; undefined when the text is not a non-negative decimal with at most 7 decimals. */
export function parseTicks(value: string | number): bigint | undefined {
  const text = typeof value === 'number' ? (Number.isFinite(value) && value >= 0 ? value.toFixed(TICK_DECIMALS) : '') : value.trim();
  const match = /^(\d{1,15})(?:\.(\d{1,7}))?$/.exec(text);
  if (!match) return undefined;
  const whole = BigInt(match[1] as string);
  const fraction = BigInt((match[2] ?? '').padEnd(TICK_DECIMALS, '0'));
  return whole * SCALE + fraction;
}

/** Like `parseTicks`, for values the database wrote (always valid); throws otherwise. */
export function ticksOf(value: string): bigint {
  const ticks = parseTicks(value);
  if (ticks === undefined) throw new Error(`not an amount: ${value}`);
  return ticks;
}

/** 123456000n → "12.3456" (at least 2 decimals, trailing zeros after them dropped). */
export function formatTicks(ticks: bigint): string {
  const whole = ticks / SCALE;
  const fraction = (ticks % SCALE).toString().padStart(TICK_DECIMALS, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${fraction}`;
}

/** The full 7-decimal text the NUMERIC(19,7) columns take: 123456000n → "12.3456000". */
export function sqlTicks(ticks: bigint): string {
  return `${ticks / SCALE}.${(ticks % SCALE).toString().padStart(TICK_DECIMALS, '0')}`;
}

/** Cents, truncated (never rounded up, so never above the budget): what `campaigns.spent` shows. */
export function truncateToCents(ticks: bigint): string {
  const cents = ticks / 10n ** BigInt(TICK_DECIMALS - 2);
  return `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
}

export const minTicks = (...values: bigint[]): bigint => values.reduce((a, b) => (b < a ? b : a));
