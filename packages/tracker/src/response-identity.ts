/**
 * Letters and digits a response id needs, once a leading `word-` or `word_`
 * prefix is set aside, before it is trusted to tell one call from another:
 * 16 hex digits are 64 bits. OpenAI (`chatcmpl-` + 29), Anthropic (`msg_` +
 * 24), vLLM and LiteLLM (a UUID), OpenRouter (`gen-` + a time and 20) pass;
 * Ollama's `chatcmpl-0`…`chatcmpl-998`, a proxy's counter (`chatcmpl-123`)
 * and a mock's constant id do not. @utt/postgres's tracked_call index
 * (migration 0013) applies the same rule; keep the two equal.
 */
export const DISTINCTIVE_ID_CHARACTERS = 16;

const isLetter = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
const isDigit = (code: number) => code >= 48 && code <= 57;

/** Whether a response id carries enough of its own to be the identity of one call (see DISTINCTIVE_ID_CHARACTERS). */
export function isDistinctiveResponseId(id: string): boolean {
  if (id.length < DISTINCTIVE_ID_CHARACTERS) return false;
  let start = 0;
  while (start < id.length && isLetter(id.charCodeAt(start))) start += 1;
  const separator = id.charCodeAt(start);
  start = start > 0 && (separator === 45 || separator === 95) ? start + 1 : 0;
  let characters = 0;
  for (let index = start; index < id.length; index += 1) {
    const code = id.charCodeAt(index);
    if (isLetter(code) || isDigit(code)) {
      characters += 1;
      if (characters >= DISTINCTIVE_ID_CHARACTERS) return true;
    }
  }
  return false;
}
