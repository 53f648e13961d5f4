// Servers that never finish an answer, standing in for any AWS endpoint, IMDS or an https input:
// a black hole accepts TCP connections and never says anything; a trickle answers 200 with a long
// body and sends one byte of it every `intervalMs`, forever.

import { type Server, type Socket, createServer } from 'node:net';

export interface StallServer {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** connections accepted so far: proof that the client did reach it */
  readonly accepted: () => number;
  close(): Promise<void>;
}

export function startBlackHole(): Promise<StallServer> {
  return listen(() => {});
}

export function startTrickle(intervalMs = 2_000): Promise<StallServer> {
  return listen((socket) => {
    // The whole head at once, once the request has arrived: only the body crawls.
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000000\r\n\r\n<');
      const timer = setInterval(() => socket.write(' '), intervalMs);
      socket.once('close', () => clearInterval(timer));
    });
  });
}

async function listen(onConnection: (socket: Socket) => void): Promise<StallServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accepted: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
