// Browser mode: the built renderer and the whole contract over HTTP + WebSocket.
// Bound to 127.0.0.1 unless told otherwise; every API request needs the per-launch token.
import http from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PaddockCore } from '../core/app';
import { serveStatic } from './static-files';

export interface WebHostOptions {
  core: PaddockCore;
  rendererDir: string;
  port?: number;
  host?: string;
  token?: string;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const host = opts.host ?? '127.0.0.1';
  const authorized = (given: string | null | undefined) => {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/api/call/')) {
      handleCall(opts.core, url.pathname.slice('/api/call/'.length), req, res, authorized);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    serveStatic(opts.rendererDir, req, res);
  });

  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/events' || !authorized(url.searchParams.get('token'))) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
    });
  });
  const unsubscribe = opts.core.onEvent((event, payload) => {
    const data = JSON.stringify({ event, payload });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(data);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function handleCall(
  core: PaddockCore,
  name: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  authorized: (t: string | undefined) => boolean,
): void {
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));
  };
  const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
  if (!authorized(bearer)) return send(401, { ok: false, error: { code: 'UNAUTHORIZED', message: 'Missing or wrong token.' } });
  if (req.method !== 'POST') return send(405, { ok: false, error: { code: 'BAD_REQUEST', message: 'Use POST.' } });
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY_BYTES) req.destroy();
    else chunks.push(c);
  });
  req.on('end', async () => {
    let body: unknown;
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    } catch (err) {
      return send(400, { ok: false, error: { code: 'BAD_REQUEST', message: `Request body is not JSON: ${(err as Error).message}` } });
    }
    const out = await core.call(decodeURIComponent(name), body);
    if (out.ok) return send(200, out);
    const status = { BAD_REQUEST: 400, NOT_FOUND: 404, UNAUTHORIZED: 401, BUSY: 409, BAD_MODEL_FILE: 422 }[out.error.code as string] ?? 500;
    send(status, out);
  });
}
