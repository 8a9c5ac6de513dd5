// A Server-Sent Events client on fetch's body stream, as a browser's EventSource reads it: frames
// split on blank lines, `id`, `event`, `data` and `retry` fields, comment lines kept apart (the
// heartbeats). Tests await what arrives.
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

export interface SseClient {
  status: number;
  headers: Headers;
  messages: SseMessage[];
  comments: string[];
  retry?: number;
  // Resolves when the server ends the stream (or the connection drops).
  ended: Promise<void>;
  // Waits for the n-th message (1-based) of those matching, or fails after timeoutMs.
  waitFor(count: number, timeoutMs?: number, match?: (m: SseMessage) => boolean): Promise<SseMessage[]>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const client: SseClient = {
    status: res.status,
    headers: res.headers,
    messages: [],
    comments: [],
    ended: Promise.resolve(),
    async waitFor(count, timeoutMs = 10_000, match = () => true) {
      const t0 = Date.now();
      for (;;) {
        const got = client.messages.filter(match);
        if (got.length >= count) return got;
        if (Date.now() - t0 > timeoutMs) {
          throw new Error(`timed out waiting for ${count} messages; got ${JSON.stringify(client.messages)}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: () => abort.abort(),
  };
  if (!res.ok || !res.body) return client;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  client.ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const message: SseMessage = { event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              client.comments.push(line.slice(1).trim());
              continue;
            }
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') message.id = val;
            else if (field === 'event') message.event = val;
            else if (field === 'retry') client.retry = Number(val);
            else if (field === 'data') {
              message.data = hasData ? `${message.data}\n${val}` : val;
              hasData = true;
            }
          }
          if (hasData) client.messages.push(message);
        }
      }
    } catch {
      // Aborted by close(), or the connection dropped: the stream has ended either way.
    }
  })();
  return client;
}
