/**
 * A stand-in for the agent of listen mode, on loopback: each POSTed utterance (its body and
 * request) goes to `answer`, which writes the reply as the test wants it (JSON, an event stream,
 * an error, nothing for a while).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInAgent {
  server: Server;
  /** the URL to set as agent.url (with `path`) */
  url(path?: string): string;
  close(): void;
}

export async function startStandInAgent(answer: (body: Buffer, req: IncomingMessage, res: ServerResponse) => void): Promise<StandInAgent> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => answer(Buffer.concat(parts), req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    url: (path = '/') => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    close: () => void server.close(),
  };
}
