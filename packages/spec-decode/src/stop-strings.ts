/**
 * Where the earliest occurrence of any stop string starts in `text`, or -1 (empty stop strings never match).
 *
 * @example
 * earliestStop('Hello\nUser:', ['User:', '\n\n']); // 6
 */
export function earliestStop(text: string, stopStrings: readonly string[]): number {
  let first = -1;
  for (const s of stopStrings) {
    if (s === '') continue;
    const at = text.indexOf(s);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  return first;
}

/**
 * How many trailing characters of `text` to hold back from streaming: the longest tail that is a proper prefix of
 * some stop string (it may still become one), or a trailing run of U+FFFD (a UTF-8 sequence the next token may
 * complete), whichever is longer.
 *
 * @example
 * unsafeTailLength('Hello Us', ['User:']); // 2
 */
export function unsafeTailLength(text: string, stopStrings: readonly string[]): number {
  let hold = 0;
  for (const s of stopStrings) {
    for (let n = Math.min(s.length - 1, text.length); n > hold; n--) {
      if (text.endsWith(s.slice(0, n))) {
        hold = n;
        break;
      }
    }
  }
  let bad = 0;
  while (bad < text.length && text.charCodeAt(text.length - 1 - bad) === 0xfffd) bad++;
  return Math.max(hold, bad);
}
