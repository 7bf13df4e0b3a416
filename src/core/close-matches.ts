/**
 * "Did you mean": the few entries of a small reference list (procedure codes, rooms, physicians) closest to
 * what someone typed, for errors that name close matches. Plain TypeScript over the list, because trigram
 * similarity (pg_trgm) is not available on every engine (embedded PGlite); reference lists are small.
 *
 * An entry matches by its key (a code or a name: equal once case, accents and punctuation are set aside,
 * one a prefix of the other, or a few edits apart, transpositions counting as one) or by its label's words
 * (each typed word found in, or a small edit away from, a word of the label).
 */

export interface MatchCandidate<T> {
  /** The code or name looked up: "3011", "CT-1", "0510001". */
  key: string;
  /** Words that describe it: "CT head without contrast", "Dr Kavitha Naidoo". */
  label?: string;
  value: T;
}

/** Lower case, accents and punctuation removed: "CT-1" → "ct1", "Dr Pillay-Naidoo" → "drpillaynaidoo". */
export function foldKey(text: string): string {
  return words(text).join('');
}

/** The words of a text, folded: lower case, without accents; punctuation separates words. */
export function words(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/[Łł]/g, 'l')
    .replace(/[Øø]/g, 'o')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/**
 * Optimal string alignment distance (Levenshtein with adjacent transpositions) between a and b, or
 * `limit + 1` as soon as it must exceed `limit`.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1);
      current.push(d);
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** Edits allowed for a typed text of this length: 1 for short codes, about one in three beyond. */
function allowedEdits(length: number): number {
  return Math.max(1, Math.floor(length / 3));
}

/** How far a candidate is from the typed text (lower is closer), or undefined when it is no match. */
function distance(
  typed: string,
  typedWords: readonly string[],
  candidate: MatchCandidate<unknown>,
): number | undefined {
  const key = foldKey(candidate.key);
  if (key === typed) return 0;
  const scores: number[] = [];
  if (typed.length >= 2 && (key.startsWith(typed) || typed.startsWith(key)))
    scores.push(1 + Math.abs(key.length - typed.length) / 100);
  const limit = allowedEdits(typed.length);
  const edits = editDistance(typed, key, limit);
  if (edits <= limit) scores.push(2 + edits);
  if (candidate.label && typedWords.length > 0) {
    const labelWords = words(candidate.label);
    let total = 0;
    for (const word of typedWords) {
      const best = Math.min(
        ...labelWords.map((w) => {
          if (w === word) return 0;
          if (word.length >= 3 && w.includes(word)) return 0.5;
          const wordLimit = word.length >= 4 ? allowedEdits(word.length) : 0;
          const e = editDistance(word, w, wordLimit);
          return e <= wordLimit ? e : Number.POSITIVE_INFINITY;
        }),
      );
      total += best;
    }
    if (Number.isFinite(total)) scores.push(3 + total / typedWords.length);
  }
  return scores.length > 0 ? Math.min(...scores) : undefined;
}

/** Up to `limit` candidates closest to `typed`, closest first (ties in key order). */
export function closeMatches<T>(typed: string, candidates: readonly MatchCandidate<T>[], limit = 3): T[] {
  const folded = foldKey(typed);
  if (folded === '') return [];
  const typedWords = words(typed);
  return candidates
    .map((candidate) => ({ candidate, score: distance(folded, typedWords, candidate) }))
    .filter((scored): scored is { candidate: MatchCandidate<T>; score: number } => scored.score !== undefined)
    .sort((a, b) => a.score - b.score || a.candidate.key.localeCompare(b.candidate.key))
    .slice(0, limit)
    .map((scored) => scored.candidate.value);
}
