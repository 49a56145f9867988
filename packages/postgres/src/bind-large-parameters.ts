/**
 * Parameters of at least this many bytes go to the socket as they are
 * (bindWithoutCopy); smaller ones are framed together as pg frames them.
 */
export const LARGE_PARAMETER_BYTES = 64 * 1024;

/**
 * A binary parameter's bytes as pieces lying where they were made (a text
 * array whose elements are runs of the adapter's state blocks:
 * textArrayParameter), sent one after the other by bindPieces without being
 * joined. Should pg frame the statement itself, it joins them (toPostgres).
 */
export class ParameterPieces {
  readonly length: number;

  constructor(readonly pieces: readonly Buffer[]) {
    let length = 0;
    for (const piece of pieces) length += piece.length;
    this.length = length;
  }

  /** The bytes in one buffer, for pg's own framing (its prepareValue calls this). */
  toPostgres(): Buffer {
    return Buffer.concat(this.pieces, this.length);
  }
}

/** The part of pg's Connection (pg/lib/connection.js) a Bind message is sent through. */
type PgConnection = {
  bind(config: BindConfig): void;
  _send(buffer: Buffer): unknown;
};

type BindConfig = {
  readonly portal?: string;
  readonly statement?: string;
  readonly values?: readonly unknown[];
  readonly binary?: boolean;
};

/**
 * Makes `connection` send a statement's large Buffer parameters without
 * copying them. pg frames a Bind message by copying every parameter into one
 * buffer of its own, grown as it goes: for the megabytes of rows and state a cold
 * agent-log cycle writes (jsonbParameter, textArrayParameter), that is a second copy of each
 * batch, in freshly allocated memory, in this process's time. This sends the
 * same bytes as pieces (the framing and small parameters, then each large
 * buffer as it is), which pg's corked socket writes out together.
 *
 * Only a Bind whose values are all text, Buffers or null (what the store's
 * own statements bind), with at least one large Buffer, takes this path;
 * anything else is pg's own bind, unchanged. Installed on each pooled
 * connection (pg's Connection is not exported by its types); idempotent.
 */
export function bindLargeParametersWithoutCopy(connection: object): void {
  const pgConnection = connection as PgConnection;
  if (pgConnection.bind === bindWithoutCopy) return;
  const ownBind = pgConnection.bind;
  if (typeof ownBind !== 'function' || typeof pgConnection._send !== 'function') return;
  originalBinds.set(pgConnection, ownBind);
  pgConnection.bind = bindWithoutCopy;
}

const originalBinds = new WeakMap<PgConnection, PgConnection['bind']>();

function bindWithoutCopy(this: PgConnection, config: BindConfig): void {
  const pieces = bindPieces(config);
  if (pieces === undefined) {
    (originalBinds.get(this) as PgConnection['bind']).call(this, config);
    return;
  }
  for (const piece of pieces) this._send(piece);
}

/**
 * The Bind message (PostgreSQL's frontend/backend protocol) of `config` as
 * pieces whose concatenation is exactly what pg would send, or undefined when
 * pg should frame it itself (no large Buffer, or a value pg would convert).
 */
export function bindPieces(config: BindConfig): Buffer[] | undefined {
  const values = config.values ?? [];
  let large = false;
  for (const value of values) {
    if (value === null || value === undefined || typeof value === 'string') continue;
    if (!Buffer.isBuffer(value) && !(value instanceof ParameterPieces)) return undefined;
    if (value.length >= LARGE_PARAMETER_BYTES) large = true;
  }
  if (!large) return undefined;

  const portal = Buffer.from(`${config.portal ?? ''}\0${config.statement ?? ''}\0`, 'utf8');
  // What is framed here: everything but the large buffers' bytes.
  const small: Array<Buffer | null | undefined> = values.map((value) =>
    typeof value === 'string'
      ? Buffer.from(value, 'utf8')
      : value instanceof ParameterPieces && value.length < LARGE_PARAMETER_BYTES
        ? value.toPostgres()
        : Buffer.isBuffer(value) && value.length < LARGE_PARAMETER_BYTES
          ? value
          : null,
  );
  // The type byte, the length, portal and statement, the format codes, the
  // parameter count, then (after the parameters) the one result format.
  let framed = 1 + 4 + portal.length + 2 + 2 * values.length + 2 + 4;
  let sent = framed;
  values.forEach((value, index) => {
    const bytes = small[index];
    framed += 4 + (bytes?.length ?? 0);
    sent += 4 + (bytes ? bytes.length : Buffer.isBuffer(value) || value instanceof ParameterPieces ? value.length : 0);
  });
  const pieces: Buffer[] = [];
  const frame = Buffer.allocUnsafe(framed);
  let offset = frame.writeUInt8(0x42, 0); // 'B'
  // The length counts itself, not the type byte.
  offset = frame.writeInt32BE(sent - 1, offset);
  offset += portal.copy(frame, offset);
  offset = frame.writeInt16BE(values.length, offset);
  for (const value of values) offset = frame.writeInt16BE(Buffer.isBuffer(value) || value instanceof ParameterPieces ? 1 : 0, offset);
  offset = frame.writeInt16BE(values.length, offset);
  let start = 0;
  values.forEach((value, index) => {
    if (value === null || value === undefined) {
      offset = frame.writeInt32BE(-1, offset);
      return;
    }
    const bytes = small[index];
    if (bytes) {
      offset = frame.writeInt32BE(bytes.length, offset);
      offset += bytes.copy(frame, offset);
      return;
    }
    const large = value as Buffer | ParameterPieces;
    offset = frame.writeInt32BE(large.length, offset);
    pieces.push(frame.subarray(start, offset));
    if (large instanceof ParameterPieces) for (const piece of large.pieces) pieces.push(piece);
    else pieces.push(large);
    start = offset;
  });
  offset = frame.writeInt16BE(1, offset);
  offset = frame.writeInt16BE(config.binary ? 1 : 0, offset);
  pieces.push(frame.subarray(start, offset));
  return pieces;
}
