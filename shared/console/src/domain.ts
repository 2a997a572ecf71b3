// A4: domain names in one normal form: lower-case ASCII, internationalised labels in punycode.
// The browser's URL parser does the IDNA mapping (UTS 46), so no library is needed.

/** A TLD as GET /listings takes it: without the dot, punycode ("中国" → "xn--fiqs8s"). */
export function normalizeTld(input: string): string {
  const label = input.trim().replace(/^\.+/, '').replace(/\.+$/, '');
  if (!label) return '';
  try {
    return new URL(`http://x.${label}/`).hostname.slice(2);
  } catch {
    return label.toLowerCase();
  }
}
