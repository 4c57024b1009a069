/** Bigram (Dice) similarity of two payees after normalising case, digits and punctuation: 1 is identical. */
export function payeeSimilarity(a: string | null, b: string | null): number {
  const normalise = (value: string | null) => (value ?? '').toLowerCase().replace(/[^a-z\u00c0-\u024f]+/g, ' ').trim();
  const left = normalise(a);
  const right = normalise(b);
  if (left.length === 0 || right.length === 0) return left === right ? 1 : 0;
  if (left === right || left.includes(right) || right.includes(left)) return 1;
  const bigrams = (text: string) => {
    const counts = new Map<string, number>();
    for (let index = 0; index < text.length - 1; index += 1) {
      const pair = text.slice(index, index + 2);
      counts.set(pair, (counts.get(pair) ?? 0) + 1);
    }
    return counts;
  };
  const leftPairs = bigrams(left);
  const rightPairs = bigrams(right);
  let shared = 0;
  for (const [pair, count] of leftPairs) shared += Math.min(count, rightPairs.get(pair) ?? 0);
  const total = [...leftPairs.values(), ...rightPairs.values()].reduce((sum, count) => sum + count, 0);
  return total === 0 ? 0 : (2 * shared) / total;
}
