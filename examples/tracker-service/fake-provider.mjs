// A stand-in for api.openai.com and api.anthropic.com on loopback, so the
// example runs offline: fixed answers with realistic usage blocks.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

export async function startFakeProvider(port = 0) {
  const requests = [];
  const server = createServer(async (request, response) => {
    let text = '';
    for await (const chunk of request) text += chunk;
    const body = text ? JSON.parse(text) : {};
    requests.push({ path: request.url, model: body.model });
    const headers = { 'content-type': 'application/json', 'x-ratelimit-remaining-requests': '4999', 'anthropic-ratelimit-requests-remaining': '49' };
    if (request.url?.endsWith('/chat/completions')) {
      response.writeHead(200, headers);
      response.end(
        JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: 'chat.completion',
          model: 'gpt-4o-mini-2024-07-18',
          choices: [{ index: 0, message: { role: 'assistant', content: 'Reset it under Settings → Security.' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
        }),
      );
    } else if (request.url?.endsWith('/messages')) {
      response.writeHead(200, headers);
      response.end(
        JSON.stringify({
          id: `msg_${requests.length}`,
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5-20250929',
          content: [{ type: 'text', text: 'The customer wants a refund.' }],
          stop_reason: 'end_turn',
          usage: { input_tokens: 2000, output_tokens: 100, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
        }),
      );
    } else {
      response.writeHead(404, headers);
      response.end('{"error":{"message":"not found"}}');
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const fake = await startFakeProvider(Number(process.env.PORT ?? 8787));
  console.log(`fake provider on ${fake.url}`);
}
