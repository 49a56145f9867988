import type { TranscriptFormat } from '../transcript-format';

/** The tests' transcript format: one response per line `<id> <hour> <tokens>` on 2026-03-01; a line starting with `!` is malformed. */
export const logLineFormat: TranscriptFormat = {
  accept: (file) => file.endsWith('.log'),
  layout: () => 'lines',
  parseLine(line, file) {
    if (line.startsWith('!')) throw new Error('bad line');
    const [id, hour, tokens] = line.split(' ');
    file.emit({
      timestampMs: Date.parse(`2026-03-01T${hour}:00:00Z`),
      model: 'm',
      labels: {},
      tokens: [Number(tokens), null, null, null, null, null, 1],
      key: id as string,
      rank: Number(tokens),
    });
  },
};
