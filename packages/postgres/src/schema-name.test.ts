import { ConfigValidationError } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { renderSql, storeTables, validateSchemaName } from './schema-name';

describe('validateSchemaName', () => {
  it('accepts plain lower-case identifiers up to 63 characters', () => {
    for (const name of ['utt', '_utt', 'telemetry_2', `a${'b'.repeat(62)}`]) {
      expect(validateSchemaName(name)).toBe(name);
    }
  });

  it('refuses anything that could break out of an identifier, naming database.schema and not the value', () => {
    for (const name of ['utt; drop', 'Utt', '1utt', 'utt-x', '"utt"', '', `a${'b'.repeat(63)}`]) {
      let caught: unknown;
      try {
        validateSchemaName(name);
      } catch (error) {
        caught = error;
      }
      expect(ConfigValidationError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toMatch(/database\.schema: must be a lower-case SQL identifier/);
      if (name.length > 0) expect((caught as Error).message).not.toContain(name);
    }
  });
});

describe('renderSql', () => {
  it('puts the quoted schema in place of every placeholder', () => {
    const tables = storeTables('user');
    expect(renderSql('SELECT * FROM {{schema}}.a JOIN {{schema}}.b', tables)).toBe('SELECT * FROM "user".a JOIN "user".b');
    expect(tables.tokenUsage).toBe('"user".token_usage');
  });
});
