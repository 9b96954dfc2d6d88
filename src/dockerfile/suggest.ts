/** "did you mean …?" as BuildKit's util/suggest does it: the closest option within edit distance 2. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

export function suggest(value: string, options: string[], caseSensitive: boolean): string | undefined {
  if (value === "" || value.length > 64) return undefined;
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let score = 3;
  for (const o0 of options) {
    const o = caseSensitive ? o0 : o0.toLowerCase();
    if (o === v) return undefined;
    const d = levenshtein(v, o);
    if (d < score) {
      score = d;
      best = o;
    }
  }
  return best;
}
