import http from 'node:http';

// Node 20's fetch costs about a millisecond per request on this machine, several times the server's own work on
// a small request, so the benchmark's client uses node:http with keep-alive instead.

export interface JsonResponse {
  status: number;
  body: string;
}

export function createClient(baseUrl: string, maxSockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const { hostname, port } = new URL(baseUrl);
  function send(method: string, path: string, headers: Record<string, string>, payload?: string): Promise<JsonResponse> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        { agent, hostname, port, path, method, headers: payload === undefined ? headers : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  }
  return {
    post: (path: string, body: unknown, headers: Record<string, string> = {}) => send('POST', path, headers, JSON.stringify(body)),
    get: (path: string, headers: Record<string, string> = {}) => send('GET', path, headers),
    close: () => agent.destroy(),
  };
}
