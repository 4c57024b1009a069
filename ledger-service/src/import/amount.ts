import { AMOUNT_CENTS_MAX } from '../domain/limits';

// Statement amounts arrive as text in many shapes ("-1,234.56", "1.234,56", "+00000000000115.8331", "(12.00)",
// "$120" is NOT one of them). They become integer cents by string arithmetic alone: no float ever holds money.

export interface AmountStyle {
  /** ',' when the file writes 1.234,56; '.' (default) for 1,234.56. */
  decimalSeparator?: ',' | '.';
}

export interface ParsedAmount {
  cents: number;
  /** True when the text had non-zero digits below a cent and was rounded half to even. */
  rounded: boolean;
}

const NUMBER = /^([+-])?(\d+)(?:\.(\d*))?$/;

/** Returns null when the text is not an amount; the caller names the file and line in its error. */
export function parseAmount(text: string, style: AmountStyle = {}): ParsedAmount | null {
  let value = text.trim().replace(/\s/g, '');
  let negative = false;
  // Accountants' parentheses and a trailing minus (SAP/German exports) both mean negative.
  if (/^\(.*\)$/.test(value)) {
    negative = true;
    value = value.slice(1, -1);
  }
  if (value.endsWith('-') && !value.startsWith('-')) {
    negative = !negative;
    value = value.slice(0, -1);
  }
  if (style.decimalSeparator === ',') value = value.replace(/\.(?=\d{3}(\D|$))/g, '').replace(',', '.');
  else value = value.replace(/,(?=\d{3}(\D|$))/g, '');
  const match = NUMBER.exec(value);
  if (!match) return null;
  const [, sign, wholeText = '', fractionText = ''] = match;
  if (sign === '-') negative = !negative;
  const whole = wholeText.replace(/^0+(?=\d)/, '');
  if (whole.length > 13) return null;
  const cents2 = fractionText.slice(0, 2).padEnd(2, '0');
  const below = fractionText.slice(2);
  let cents = Number(whole) * 100 + Number(cents2);
  let rounded = false;
  if (/[1-9]/.test(below)) {
    rounded = true;
    // Round half to even, decided on the digits themselves.
    const first = Number(below[0]);
    const rest = below.slice(1);
    if (first > 5 || (first === 5 && /[1-9]/.test(rest)) || (first === 5 && cents % 2 === 1)) cents += 1;
  }
  if (cents > AMOUNT_CENTS_MAX) return null;
  const signed = negative ? -cents : cents;
  return { cents: signed === 0 ? 0 : signed, rounded };
}
