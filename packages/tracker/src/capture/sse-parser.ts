/** One server-sent event: its `event:` name ('' when absent) and its joined `data:` lines. */
export type ServerSentEvent = { readonly event: string; readonly data: string };

/**
 * An incremental SSE parser over the bytes a caller is reading: it keeps only
 * the unfinished tail of the current event, so memory stays flat however long
 * the stream is, and it never changes the bytes passed on.
 */
export function createSseParser(onEvent: (event: ServerSentEvent) => void) {
  // Lines end in \n or \r\n (what every LLM API sends); a lone \r is not treated as a line end.
  // Created on the first piece that may end inside a character: a TextDecoder costs more than parsing a short event.
  let decoder: InstanceType<typeof TextDecoder> | undefined;
  let buffer = '';
  let eventName = '';
  let data: string[] = [];

  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) onEvent({ event: eventName, data: data.join('\n') });
      eventName = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') eventName = value;
  };

  const drain = () => {
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf('\n', start);
      if (newline === -1) break;
      const end = newline > start && buffer.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      line(buffer.slice(start, end));
      start = newline + 1;
    }
    if (start > 0) buffer = buffer.slice(start);
  };

  return {
    push(chunk: Uint8Array) {
      // A piece that ends in an ASCII byte ends between characters; while every piece so far did, each is decoded on its own.
      const length = chunk.byteLength;
      if (decoder === undefined && (length === 0 || (chunk[length - 1] as number) < 0x80)) buffer += Buffer.from(chunk.buffer, chunk.byteOffset, length).toString('utf8');
      else buffer += (decoder ??= new TextDecoder()).decode(chunk, { stream: true });
      drain();
    },
    end() {
      if (decoder) buffer += decoder.decode();
      drain();
      if (buffer !== '') line(buffer);
      line('');
    },
  };
}
