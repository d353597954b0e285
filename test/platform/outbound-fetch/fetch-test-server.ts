/** A loopback HTTP server with the answers the outbound fetch tests need; `hits` lists the paths it was asked. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  origin: string;
  port: number;
  hits: { path: string; method: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const hits: TestServer['hits'] = [];
  let port = 0;
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    hits.push({ path, method: req.method ?? '', authorization: req.headers.authorization });
    const redirect = (to: string, status = 302) => res.writeHead(status, { location: to }).end();
    if (path === '/ok') res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    else if (path === '/to-ok') redirect('/ok');
    else if (path === '/see-other') redirect('/ok', 303);
    else if (path === '/to-loopback-2') redirect(`http://127.0.0.2:${port}/ok`);
    else if (path === '/to-localhost') redirect(`http://localhost:${port}/ok`);
    else if (path === '/to-metadata') redirect('http://169.254.169.254/latest/meta-data/');
    else if (path === '/to-other-name') redirect(`http://other.test:${port}/echo`);
    else if (path === '/echo') res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
    else if (path === '/loop') redirect('/loop');
    else if (path === '/big-chunked') {
      res.writeHead(200);
      for (let i = 0; i < 64; i++) res.write(Buffer.alloc(32 * 1024, 'x'));
      res.end();
    } else if (path === '/big-declared') res.writeHead(200, { 'content-length': String(4 * 1024 * 1024) }).end(Buffer.alloc(4 * 1024 * 1024));
    else if (path === '/trickle') {
      res.writeHead(200);
      const tick = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(tick));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
