// A fault-injecting TCP proxy for the reliability suites. It sits in front of a real
// upstream (Keycloak and the apiserver speak TLS end to end through it, Grafana plain
// HTTP) and, for a share of the chunks a client sends, injects one fault:
// - `reset`: the connection is reset before the chunk reaches the upstream;
// - `reset-after`: the chunk is forwarded, then the connection is reset before the answer
//   comes back (the upstream may have acted: the nastiest case for idempotency);
// - `latency`: the chunk is held back for a while;
// - `http-5xx` (plain HTTP upstreams only): the chunk is swallowed and a 502/503/504 sent.
// Faults are decided per chunk, not per connection, so keep-alive pools keep meeting them.
import { randomInt } from 'node:crypto';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

export type FaultKind = 'reset' | 'reset-after' | 'latency' | 'http-5xx';

export interface FaultProxyOptions {
  upstreamHost: string;
  upstreamPort: number;
  /** Share of client chunks that meet a fault, 0..1. */
  rate: number;
  /** The faults to choose from (uniformly). `http-5xx` only makes sense for plain HTTP. */
  kinds: readonly FaultKind[];
  /** Added latency range in ms for `latency`. */
  latencyMs?: readonly [number, number];
}

export type FaultStats = Record<FaultKind | 'chunks' | 'connections', number>;

const STATUS_5XX = [502, 503, 504] as const;

export class FaultProxy {
  readonly stats: FaultStats = { chunks: 0, connections: 0, reset: 0, 'reset-after': 0, latency: 0, 'http-5xx': 0 };
  #rate: number;
  readonly #sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly options: FaultProxyOptions,
  ) {
    this.#rate = options.rate;
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, options);
    server.on('connection', (client) => proxy.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Changes the fault rate at run time (0 turns faults off, e.g. to verify the end state). */
  set rate(rate: number) {
    this.#rate = rate;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.stats.connections += 1;
    const upstream = new Socket();
    this.#sockets.add(client).add(upstream);
    const forget = () => {
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    const kill = () => {
      resetQuietly(client);
      resetQuietly(upstream);
      forget();
    };
    client.on('error', kill).on('close', () => upstream.destroy());
    upstream.on('error', kill).on('close', () => client.destroy());
    upstream.connect(this.options.upstreamPort, this.options.upstreamHost);
    upstream.pipe(client);

    // Client → upstream, one chunk at a time, in order (latency holds back what follows).
    let queue: Promise<void> = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      queue = queue.then(() => this.#forward(chunk, client, upstream, kill));
    });
    client.on('end', () => void queue.then(() => upstream.end()));
  }

  async #forward(chunk: Buffer, client: Socket, upstream: Socket, kill: () => void): Promise<void> {
    if (client.destroyed || upstream.destroyed) return;
    this.stats.chunks += 1;
    const fault = Math.random() < this.#rate ? this.options.kinds[randomInt(this.options.kinds.length)] : undefined;
    if (fault) this.stats[fault] += 1;
    switch (fault) {
      case 'reset':
        return kill();
      case 'reset-after': {
        // The answer is held back: the connection is reset as soon as the upstream starts
        // answering (it has acted) or, for a request still arriving, a little later.
        upstream.unpipe(client);
        upstream.write(chunk);
        upstream.once('data', kill);
        setTimeout(kill, randomInt(200, 500));
        return;
      }
      case 'latency': {
        const [min, max] = this.options.latencyMs ?? [50, 500];
        await new Promise((resolve) => setTimeout(resolve, randomInt(min, max + 1)));
        if (!upstream.destroyed) upstream.write(chunk);
        return;
      }
      case 'http-5xx': {
        const status = STATUS_5XX[randomInt(STATUS_5XX.length)] ?? 503;
        const body = JSON.stringify({ message: 'injected by fault proxy' });
        upstream.unpipe(client);
        client.end(
          `HTTP/1.1 ${status} Injected\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
        upstream.destroy();
        return;
      }
      default:
        upstream.write(chunk);
    }
  }
}

function resetQuietly(socket: Socket): void {
  if (socket.destroyed) return;
  // A real TCP RST where the socket is connected; a plain destroy otherwise.
  if (socket.readyState === 'open' && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}
