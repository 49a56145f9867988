import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';

/** The part of PGlite's query API that COPY FROM '/dev/blob' needs. */
type PgliteQuery = (text: string, params: unknown[], options: { blob: Blob }) => Promise<unknown>;

/**
 * PGlite reads COPY input from one Blob it holds in memory: 8 MB blobs keep a
 * million-row import in bounded memory at no measurable cost in speed.
 */
const PGLITE_BLOB_BYTES = 8 * 1024 * 1024;

/** COPY … FROM STDIN on a pg connection, streamed with backpressure (pg-copy-streams). */
export async function copyFromPg(connection: PoolClient, statement: string, data: AsyncIterable<string>): Promise<void> {
  // Loaded here: the embedded database (copyFromPglite) never needs it.
  const { from: copyFromStdin } = await import('pg-copy-streams');
  await pipeline(Readable.from(data, { objectMode: false }), connection.query(copyFromStdin(statement)));
}

/**
 * COPY … FROM STDIN on PGlite, which has no COPY protocol: the statement is
 * rewritten to read `/dev/blob` and run once per blob of PGLITE_BLOB_BYTES.
 */
export async function copyFromPglite(query: PgliteQuery, statement: string, data: AsyncIterable<string>): Promise<void> {
  const blobStatement = statement.replace(/\bFROM\s+STDIN\b/i, "FROM '/dev/blob'");
  if (blobStatement === statement) throw new Error('copyFrom needs a COPY … FROM STDIN statement');
  let chunks: string[] = [];
  let size = 0;
  const flush = async (): Promise<void> => {
    if (size === 0) return;
    const blob = new Blob(chunks);
    chunks = [];
    size = 0;
    await query(blobStatement, [], { blob });
  };
  for await (const chunk of data) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= PGLITE_BLOB_BYTES) await flush();
  }
  await flush();
}
