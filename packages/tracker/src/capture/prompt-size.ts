/**
 * An upper bound of a prompt's input tokens, counted before the call is sent
 * for a block budget's worst case: one token per UTF-8 byte of its text (every
 * string of the prompt, object keys included, so the few tokens a message's
 * role and framing take are covered too). A byte-level BPE token (OpenAI,
 * Anthropic) or a SentencePiece one (Gemini) spans at least one byte of text,
 * so text never has more tokens than bytes; English runs about four bytes a
 * token, so the bound holds about four times what the call will use.
 *
 * Binary parts are not counted: bytes, and the `data` of a part that names a
 * media type (an AI SDK file part, Gemini's `inlineData`, an Anthropic
 * request's base64 `source`); an image's or a
 * document's tokens follow each provider's own rules, so a call with large
 * attachments can cost more than its reservation.
 */
export function estimateInputTokens(...values: unknown[]): number {
  let bytes = 0;
  for (const value of values) bytes += textBytes(value, 0);
  return bytes;
}

const MAX_DEPTH = 64;

function textBytes(value: unknown, depth: number): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value).length;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return 0;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof URL) return 0;
  let bytes = 0;
  if (Array.isArray(value)) {
    for (const item of value) bytes += textBytes(item, depth + 1);
    return bytes;
  }
  const record = value as Record<string, unknown>;
  const binary = typeof record.mediaType === 'string' || typeof record.mimeType === 'string' || typeof record.media_type === 'string';
  for (const key of Object.keys(record)) {
    if (binary && key === 'data') continue;
    bytes += key.length + textBytes(record[key], depth + 1);
  }
  return bytes;
}
