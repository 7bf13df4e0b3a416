/**
 * Text that PostgreSQL and hashing agree on. PostgreSQL refuses NUL in text and jsonb, and a lone UTF-16
 * surrogate has no UTF-8 form (it is stored as U+FFFD, so a hash taken over the JavaScript string no longer
 * matches the row). Every string entering the product is checked once, at validation, and refused.
 */

/** Why a string cannot be accepted, or undefined when it is fine. Linear time, no regular expression. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters (\\u0000)';
  if (!text.isWellFormed()) return 'must be valid Unicode text (it holds a lone UTF-16 surrogate)';
  return undefined;
}

export interface TextFinding {
  field: string;
  message: string;
}

const MAX_FINDINGS = 5;

/** Every string (values and keys) in a parsed JSON value that cannot be accepted, with its path. */
export function hostileText(value: unknown, path = ''): TextFinding[] {
  const found: TextFinding[] = [];
  const visit = (item: unknown, at: string): void => {
    if (found.length >= MAX_FINDINGS) return;
    if (typeof item === 'string') {
      const problem = textProblem(item);
      if (problem) found.push({ field: at || '(parameters)', message: problem });
      return;
    }
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length && found.length < MAX_FINDINGS; i++) visit(item[i], `${at}.${i}`);
      return;
    }
    if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        const keyProblem = textProblem(key);
        const name = keyProblem ? JSON.stringify(key.toWellFormed().replaceAll('\u0000', '\\u0000')) : key;
        const childPath = at ? `${at}.${name}` : name;
        if (keyProblem) found.push({ field: childPath, message: `parameter name ${keyProblem}` });
        else visit(child, childPath);
        if (found.length >= MAX_FINDINGS) return;
      }
    }
  };
  visit(value, path);
  return found;
}

/** A string made storable and hashable as it will be stored: well-formed, without NUL. */
export function storable(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '') : wellFormed;
}
