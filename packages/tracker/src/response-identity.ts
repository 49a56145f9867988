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


/** Whether a response id carries enough of its own to be the identity of one call (see DISTINCTIVE_ID_CHARACTERS). */
export function isDistinctiveResponseId(id: string): boolean {
  if (id.length < DISTINCTIVE_ID_CHARACTERS) return false;
  let start = 0;
  // Letters and digits tested in place (no helper call per character: this runs once per recorded call, often before
  // its code is optimized). `code | 32` folds upper-case ASCII letters onto lower-case ones.
  for (let code = id.charCodeAt(start); start < id.length && (code | 32) >= 97 && (code | 32) <= 122; code = id.charCodeAt(start)) start += 1;
  const separator = id.charCodeAt(start);
  start = start > 0 && (separator === 45 || separator === 95) ? start + 1 : 0;
  let characters = 0;
  for (let index = start; index < id.length; index += 1) {
    const code = id.charCodeAt(index);
    if (((code | 32) >= 97 && (code | 32) <= 122) || (code >= 48 && code <= 57)) {
      characters += 1;
      if (characters >= DISTINCTIVE_ID_CHARACTERS) return true;
    }
  }
  return false;
}
