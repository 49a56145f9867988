import { describe, expect, it } from 'vitest';
import { isDistinctiveResponseId } from './response-identity';

/** Response ids and whether each identifies a call: the same table is in @utt/postgres's tracked-calls.test.ts (migration 0013's index). */
const RESPONSE_IDS: Record<string, boolean> = {
  'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT': true,
  resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b: true,
  msg_01XFDUDYJgAACzvnptvVoYEL: true,
  ZnFdaLbCLJ6qnvgPs5ye0Qc: true,
  'chatcmpl-6a3b1c2d-1234-4567-89ab-cdef01234567': true,
  'gen-1733550000-AbCdEfGhIjKlMnOpQrSt': true,
  '8c2d5b0e4f6a4d2b': true,
  'chatcmpl-537': false,
  'chatcmpl-0': false,
  msg_01XyZ: false,
  'chatcmpl-Str456': false,
  'g-resp-1': false,
  'chatcmpl-8c2d5b0e4f6a4d2': false,
  'chatcmpl-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü': false,
  'chatcmpl-üa1b2c3d4e5f6a7b8c9d': true,
  'abc-def_ghi-jkl_mno-pqr': false,
  'abc-def_ghi-jkl_mno-pqrs': true,
  'abcdefghijklmno': false,
  '': false,
};

describe('isDistinctiveResponseId', () => {
  it('trusts ids with 16 letters and digits past a word prefix, and no shorter ones (reused ids: Ollama, counters, mocks)', () => {
    expect(Object.fromEntries(Object.keys(RESPONSE_IDS).map((id) => [id, isDistinctiveResponseId(id)]))).toEqual(RESPONSE_IDS);
  });
});
