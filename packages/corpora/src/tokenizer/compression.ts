/**
 * Characters (Unicode code points) per token over a set of texts: the usual tokenizer compression
 * figure. `countTokens` returns the number of tokens of one text, without `<s>`/`</s>`.
 *
 * @example
 * const enc = new ReferenceBpeEncoder(json);
 * charsPerToken(heldOut, (t) => enc.encode(t, { addBos: false }).length); // ≈ 3.2 on SOTU 2001–2021
 */
export function charsPerToken(texts: Iterable<string>, countTokens: (text: string) => number): number {
  let chars = 0;
  let tokens = 0;
  for (const text of texts) {
    for (const _ of text) chars++;
    tokens += countTokens(text);
  }
  return tokens === 0 ? 0 : chars / tokens;
}
