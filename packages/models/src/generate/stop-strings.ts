/**
 * Where the earliest stop string starts in `text`, or -1.
 *
 * @example
 * findStopString('Hello\nUser:', ['User:', '\n\n']); // 6
 */
export function findStopString(text: string, stopStrings: readonly string[]): number {
  let first = -1;
  for (const s of stopStrings) {
    if (s.length === 0) continue;
    const at = text.indexOf(s);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  return first;
}

/**
 * How many trailing characters of `text` must not be streamed yet: the longest tail that is a proper prefix of
 * a stop string (it may grow into one), or a trailing run of U+FFFD (an incomplete UTF-8 byte sequence that the
 * next byte-fallback token may complete).
 *
 * @example
 * heldBackLength('Hello Us', ['User:']); // 2
 */
export function heldBackLength(text: string, stopStrings: readonly string[]): number {
  let hold = 0;
  for (const s of stopStrings) {
    for (let k = Math.min(s.length - 1, text.length); k > hold; k--) {
      if (text.endsWith(s.slice(0, k))) {
        hold = k;
        break;
      }
    }
  }
  let replacement = 0;
  while (replacement < text.length && text.charCodeAt(text.length - 1 - replacement) === 0xfffd) replacement++;
  return Math.max(hold, replacement);
}
