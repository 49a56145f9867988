-- utt migration 0013: a response id identifies a tracked call only when it can.
--
-- 0006 made (source_system, provider, response_id) unique, and the tracker's
-- writer skips a call that conflicts (ON CONFLICT DO NOTHING), so that a call
-- recorded again is not counted twice. But some servers reuse response ids:
-- Ollama's OpenAI-compatible API answers `chatcmpl-` and a random number
-- below 999, a proxy may count from 1 after each restart, a mock answers one
-- constant id. Past about a thousand calls of such a server most new calls
-- met a stored id and were skipped: lost from the ledger and its cells.
--
-- Now a stored call is the same call recorded again only when
--   * its response id is distinctive: at least 16 letters and digits once a
--     leading `word-` or `word_` prefix is set aside (OpenAI, Anthropic,
--     Google, vLLM, LiteLLM and OpenRouter ids are; `chatcmpl-537` is not),
--     the rule of @utt/tracker's src/response-identity.ts (keep them equal);
--   * and it names the same model and the same counts, every bucket (a
--     response recorded again reports what it reported the first time).
-- Calls with other ids are stored, every one (the writer's event_id key
-- still makes a retried batch write nothing twice).
--
-- Existing rows: the old index made (source_system, provider, response_id)
-- unique among them; the new key has more columns and covers fewer rows, so
-- every stored row already satisfies it. The index is built from the rows as
-- they are; no row is changed or removed.

DROP INDEX IF EXISTS {{schema}}.tracked_call_response_id_key;

CREATE UNIQUE INDEX tracked_call_response_key ON {{schema}}.tracked_call (
  source_system, provider, response_id, model,
  COALESCE(input_tokens, -1), COALESCE(output_tokens, -1), COALESCE(cached_read_tokens, -1),
  COALESCE(cached_write_tokens, -1), COALESCE(cached_write_1h_tokens, -1), COALESCE(reasoning_tokens, -1),
  COALESCE(web_searches, -1)
)
WHERE response_id IS NOT NULL
  AND length(regexp_replace(regexp_replace(response_id, '^[A-Za-z]+[-_]', ''), '[^A-Za-z0-9]', '', 'g')) >= 16;

COMMENT ON INDEX {{schema}}.tracked_call_response_key IS
  'utt: a call recorded again (distinctive response id, same model and counts) is stored once; see migration 0013';
