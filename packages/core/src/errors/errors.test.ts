import { describe, expect, it } from 'vitest';
import { AdapterHttpError, type AdapterHttpFailure } from './adapter-http-error';
import { ConfigValidationError } from './config-validation-error';
import { InvalidAdapterError } from './invalid-adapter-error';
import { InvalidRecordError } from './invalid-record-error';
import { MissingSecretError } from './missing-secret-error';
import { ResponseShapeError } from './response-shape-error';
import { UnsupportedAdapterVersionError } from './unsupported-adapter-version-error';
import { UttError } from './utt-error';

const samples = {
  AdapterHttpError: new AdapterHttpError({ message: 'm', endpoint: 'https://x/y', failure: 'status', statusCode: 500 }),
  ConfigValidationError: new ConfigValidationError({ issues: ['sources[0].config.adminKey: required'], file: 'utt.yaml' }),
  InvalidAdapterError: new InvalidAdapterError({ packageName: 'utt-adapter-foo', reason: 'collect is not a function' }),
  InvalidRecordError: new InvalidRecordError({ issues: ['input_tokens: must not be negative'], where: 'row 2' }),
  MissingSecretError: new MissingSecretError({ variable: 'OPENAI_ADMIN_KEY', purpose: 'openai usage' }),
  ResponseShapeError: new ResponseShapeError({ endpoint: 'https://x/y', issues: ['data: expected array'] }),
  UnsupportedAdapterVersionError: new UnsupportedAdapterVersionError({ packageName: 'p', version: 'v2', supported: ['v1'] }),
};
const classes = {
  AdapterHttpError,
  ConfigValidationError,
  InvalidAdapterError,
  InvalidRecordError,
  MissingSecretError,
  ResponseShapeError,
  UnsupportedAdapterVersionError,
};

describe('error identity', () => {
  it.each(Object.keys(classes) as Array<keyof typeof classes>)('%s: isInstance is true for itself only, and UttError.isInstance for all', (name) => {
    for (const [otherName, error] of Object.entries(samples)) {
      expect(classes[name].isInstance(error), `${name}.isInstance(${otherName})`).toBe(otherName === name);
    }
    const own = samples[name];
    expect(UttError.isInstance(own)).toBe(true);
    expect(own).toBeInstanceOf(Error);
    expect(own.name).toBe(`UTT_${name}`);
  });

  it('works across copies of @utt/core: the Symbol.for marker is what counts', () => {
    // What another copy's AdapterHttpError looks like to this copy: a different
    // class carrying the same registered symbols.
    const foreign = Object.assign(new Error('from another copy'), {
      [Symbol.for('utt.error')]: true,
      [Symbol.for('utt.error.UTT_AdapterHttpError')]: true,
    });
    expect(foreign instanceof AdapterHttpError).toBe(false);
    expect(AdapterHttpError.isInstance(foreign)).toBe(true);
    expect(UttError.isInstance(foreign)).toBe(true);
    expect(ResponseShapeError.isInstance(foreign)).toBe(false);
    expect(UttError.isInstance({ [Symbol.for('utt.error')]: true })).toBe(true);
  });

  it('is false for things that are not utt errors', () => {
    for (const value of [new Error('x'), null, undefined, 'UTT_AdapterHttpError', 42, {}, { name: 'UTT_AdapterHttpError' }]) {
      expect(UttError.isInstance(value)).toBe(false);
      expect(AdapterHttpError.isInstance(value)).toBe(false);
    }
    // A marker that is merely truthy is not the marker.
    expect(UttError.isInstance({ [Symbol.for('utt.error')]: 'yes' })).toBe(false);
  });
});

describe('AdapterHttpError', () => {
  const make = (failure: AdapterHttpFailure, statusCode?: number) =>
    new AdapterHttpError({ message: 'm', endpoint: 'e', failure, statusCode });

  it.each([408, 429, 500, 502, 503, 504])('a %d is retryable', (status) => {
    expect(make('status', status).isRetryable).toBe(true);
  });

  it.each([400, 401, 403, 404, 409, 422])('a %d is not retryable', (status) => {
    expect(make('status', status).isRetryable).toBe(false);
  });

  it('deadline and network failures are retryable', () => {
    expect(make('deadline').isRetryable).toBe(true);
    expect(make('network').isRetryable).toBe(true);
  });

  it('defaults attempts to 1 and keeps the cause', () => {
    const cause = new Error('socket hang up');
    const error = new AdapterHttpError({ message: 'm', endpoint: 'e', failure: 'network', cause });
    expect(error.attempts).toBe(1);
    expect(error.cause).toBe(cause);
  });
});

describe('error messages', () => {
  it('say what is wrong and where', () => {
    expect(samples.ConfigValidationError.message).toBe('invalid configuration in utt.yaml:\n  sources[0].config.adminKey: required');
    expect(samples.InvalidAdapterError.message).toBe('utt-adapter-foo is not a utt adapter: collect is not a function');
    expect(samples.InvalidRecordError.message).toBe('invalid usage record (row 2): input_tokens: must not be negative');
    expect(samples.MissingSecretError.message).toBe('OPENAI_ADMIN_KEY is not set (openai usage)');
    expect(samples.UnsupportedAdapterVersionError.message).toBe('p implements adapter specification v2; this utt supports v1');
    expect(samples.UnsupportedAdapterVersionError.version).toBe('v2');
  });

  it('ResponseShapeError lists at most five issues', () => {
    const issues = Array.from({ length: 8 }, (_, i) => `data[${i}]: bad`);
    const error = new ResponseShapeError({ endpoint: 'https://x/y', issues });
    expect(error.message).toBe(
      'unexpected response from https://x/y: data[0]: bad; data[1]: bad; data[2]: bad; data[3]: bad; data[4]: bad (and 3 more)',
    );
    expect(error.issues).toHaveLength(8);
  });
});
