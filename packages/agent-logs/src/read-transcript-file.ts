import { statSync } from 'node:fs';
import { foldConsecutiveCopies } from './consecutive-copies';
import type { FileCursor } from './file-cursor';
import { type LineSink, readNewLines, readWholeFileIfChanged } from './read-new-lines';
import type { TranscriptFile, TranscriptFormat } from './transcript-format';
import type { UsageEvent } from './usage-event';

export type TranscriptFileSink = {
  readonly emit: (event: UsageEvent) => void;
  readonly malformed: (line: number, error: unknown) => void;
};

export type TranscriptFileRead =
  | { readonly status: 'unchanged' }
  | {
      readonly status: 'read';
      readonly cursor: FileCursor;
      readonly reset: boolean;
      readonly bytesRead: number;
      /** Consecutive copies of a response folded into one before reaching the sink (they count as duplicates). */
      readonly folded: number;
    };

/**
 * Reads what is new in one transcript and hands its events to `sink`: the
 * part of a scan that needs no ledger, so it can run on a worker thread.
 */
export async function readTranscriptFile(
  path: string,
  previous: FileCursor | undefined,
  format: TranscriptFormat,
  sink: TranscriptFileSink,
): Promise<TranscriptFileRead> {
  const copies = foldConsecutiveCopies(sink.emit);
  const file: TranscriptFile = { path, carry: undefined, emit: copies.emit };
  if (format.layout(path) === 'document') {
    const read = await readWholeFileIfChanged(path, previous);
    if (!read) return { status: 'unchanged' };
    try {
      // Empty: just created, or truncated by a rewrite still under way (Gemini CLI writes its recordings in place).
      if (read.text.length > 0) format.parseDocument?.(read.text, file);
    } catch (error) {
      // A document that changed while it was read was caught half-written: the next cycle reads it whole.
      if (!changedSince(path, read.cursor)) sink.malformed(0, error);
    }
    copies.flush();
    return { status: 'read', cursor: read.cursor, reset: false, bytesRead: read.cursor.size, folded: copies.folded() };
  }
  const onLine: LineSink =
    format.parseLineBytes === undefined
      ? (line, lineNumber) => {
          try {
            format.parseLine?.(line, file);
          } catch (error) {
            sink.malformed(lineNumber, error);
          }
        }
      : {
          bytes: (bytes, start, end, lineNumber) => {
            try {
              format.parseLineBytes?.(bytes, start, end, file);
            } catch (error) {
              sink.malformed(lineNumber, error);
            }
          },
        };
  const result = await readNewLines(
    path,
    previous,
    onLine,
    // A file read from the start again must not continue from its old carry.
    (reset) => {
      // Cloned: the parser mutates it, and the stored copy must change only through state.set().
      file.carry = reset || previous?.carry === undefined ? undefined : structuredClone(previous.carry);
    },
    format.lineMustContain,
  );
  if (result.unchanged) return { status: 'unchanged' };
  copies.flush();
  return { status: 'read', cursor: { ...result.cursor, carry: file.carry }, reset: result.reset, bytesRead: result.bytesRead, folded: copies.folded() };
}

/** Whether the file's size or mtime differ from those `cursor` recorded (a file gone has changed). */
function changedSince(path: string, cursor: FileCursor): boolean {
  const info = statSync(path, { throwIfNoEntry: false });
  return info === undefined || info.size !== cursor.size || info.mtimeMs !== cursor.mtimeMs;
}

/**
 * The reason for a bad line, without the line's text: a transcript holds
 * whatever the user pasted, secrets included, and V8's JSON errors quote it.
 */
export function describeParseError(error: unknown): string {
  if (error instanceof SyntaxError) return 'not valid JSON';
  if (error instanceof Error) return error.message;
  return String(error);
}
