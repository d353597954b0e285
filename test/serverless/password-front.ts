/**
 * A front for the local PostgreSQL that asks every new connection for a cleartext password,
 * as RDS Proxy does with IAM authentication, and lets it through only if `accept` says so;
 * then it relays the connection to the real server (whose loopback rules trust the user),
 * so every query is the server's. The local server asks for no password, so without this
 * front pg would never call its password function.
 */
import net from 'node:net';

export interface PasswordFront {
  port: number;
  /** Every password presented, in order. */
  passwords: string[];
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat([
    Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0`, 'utf8'),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

export async function startPasswordFront(target: { host: string; port: number }, accept: (password: string) => boolean): Promise<PasswordFront> {
  const passwords: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    let startup: Buffer | undefined;
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (!startup) {
          if (buffered.length < 8) return;
          const length = buffered.readInt32BE(0);
          if (buffered.length < length) return;
          const code = buffered.readInt32BE(4);
          const message = buffered.subarray(0, length);
          buffered = buffered.subarray(length);
          if (length === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
            client.write('N');
            continue;
          }
          startup = Buffer.from(message);
          // AuthenticationCleartextPassword.
          const ask = Buffer.alloc(9);
          ask.write('R', 0);
          ask.writeInt32BE(8, 1);
          ask.writeInt32BE(3, 5);
          client.write(ask);
          continue;
        }
        if (buffered.length < 5) return;
        const length = buffered.readInt32BE(1);
        if (buffered.length < length + 1) return;
        if (buffered[0] !== 'p'.charCodeAt(0)) {
          client.end(errorResponse('08P01', 'expected a password message'));
          return;
        }
        const password = buffered.subarray(5, length).toString('utf8').replace(/\0$/, '');
        const rest = buffered.subarray(length + 1);
        passwords.push(password);
        client.off('data', onData);
        if (!accept(password)) {
          client.end(errorResponse('28P01', 'password authentication failed'));
          return;
        }
        const upstream = net.connect(target.port, target.host);
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.write(startup);
        if (rest.length > 0) upstream.write(rest);
        upstream.pipe(client);
        client.pipe(upstream);
        return;
      }
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    passwords,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
