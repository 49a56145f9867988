import { describe, expect, it } from 'vitest';
import { modelInScope } from './model-scope';

describe("a budget's model scope", () => {
  it('covers the dated snapshots a response names for the alias a request named, and nothing else', () => {
    const covered: Array<[string, string]> = [
      ['gpt-4o-mini', 'gpt-4o-mini'],
      ['gpt-4o-mini', 'gpt-4o-mini-2024-07-18'],
      ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'],
      ['claude-sonnet-4-5', 'claude-sonnet-4-5@20250929'],
      ['anthropic.claude-3-5-sonnet', 'anthropic.claude-3-5-sonnet-20240620-v1:0'],
      // A snapshot's budget covers the alias a request names (the call may be served by it).
      ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ];
    const apart: Array<[string, string]> = [
      ['gpt-4o', 'gpt-4o-mini'],
      ['gpt-4o', 'gpt-4o-mini-2024-07-18'],
      ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini-2025-01-01'],
      ['gpt-4', 'gpt-4-0613'],
      ['claude-sonnet-4', 'claude-sonnet-4-5-20250929'],
    ];
    for (const [scope, model] of covered) expect([scope, model, modelInScope(scope, model)]).toEqual([scope, model, true]);
    for (const [scope, model] of apart) expect([scope, model, modelInScope(scope, model)]).toEqual([scope, model, false]);
  });
});
