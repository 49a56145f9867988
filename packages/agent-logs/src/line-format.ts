// What a transcript format needs to read lines, and nothing else: a scan's
// worker thread imports the format's module (workerModule), and a format built
// on this entry spares each worker loading the package's index and @utt/core
// (zod and every schema), tens of milliseconds of CPU per thread.
export { formatModuleUrl } from './format-module';
export { createJsonMemberReader, type JsonMemberReader, type JsonMemberSpec } from './json-fields';
export { addTokenVector, emptyTokenVector, TOKEN_VECTOR_LENGTH, type TokenVector, tokenTotal } from './token-vector';
export type { TranscriptFile, TranscriptFormat } from './transcript-format';
export type { UsageEvent } from './usage-event';
