const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * The first key that appears twice in one object of `json` (text already known
 * to be valid JSON), or undefined. JSON.parse keeps the last of two equal keys
 * without a word; an import must not guess which of two values is right.
 */
export function findDuplicateJsonKey(json: string): string | undefined {
  // One set of keys per open object; null for an open array.
  const stack: Array<Set<string> | null> = [];
  for (let index = 0; index < json.length; index++) {
    const code = json.charCodeAt(index);
    if (code === QUOTE) {
      const start = index;
      let escaped = false;
      for (index++; index < json.length; index++) {
        const inner = json.charCodeAt(index);
        if (inner === BACKSLASH) {
          escaped = true;
          index++;
        } else if (inner === QUOTE) {
          break;
        }
      }
      const keys = stack[stack.length - 1];
      if (keys && nextNonSpace(json, index + 1) === COLON) {
        const raw = json.slice(start, index + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (keys.has(key)) return key;
        keys.add(key);
      }
    } else if (code === OPEN_BRACE) {
      stack.push(new Set());
    } else if (code === OPEN_BRACKET) {
      stack.push(null);
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      stack.pop();
    }
  }
  return undefined;
}

function nextNonSpace(text: string, from: number): number {
  for (let index = from; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return code;
  }
  return -1;
}
