/**
 * A loopback TCP proxy that makes a backend slow on demand: every chunk the target sends back is held for
 * `delayMs` (as set when the chunk arrived) before it is passed on, in order. Put it between the server
 * and Orthanc (or any HTTP backend) to test time limits without touching the backend itself.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Added delay for answers from now on, in milliseconds (0: pass straight through). */
  setDelay(ms: number): void;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startDelayProxy(target: { host: string; port: number }): Promise<DelayProxy> {
  let delayMs = 0;
  let connections = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = createConnection({ host: target.host, port: target.port });
    track(client);
    track(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    // Each chunk is released at (arrival + delay) but never before the chunk ahead of it: order is kept
    // and a delay does not accumulate over a multi-chunk answer.
    let previous: Promise<void> = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      const releaseAt = Date.now() + delayMs;
      previous = previous.then(async () => {
        const wait = releaseAt - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (!client.destroyed) client.write(chunk);
      });
    });
    upstream.on('end', () => {
      void previous.then(() => client.end());
    });
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    // A client giving up (a timeout aborts the request) closes the upstream connection too, like a real
    // proxy would; errors on either side just end the pair.
    client.on('close', destroyBoth);
    client.on('error', destroyBoth);
    upstream.on('error', destroyBoth);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setDelay(ms: number) {
      delayMs = ms;
    },
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
