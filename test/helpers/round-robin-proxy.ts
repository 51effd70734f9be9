/**
 * A tiny HTTP load balancer on 127.0.0.1 for scale-out tests: each request goes to the next replica
 * in turn (round robin, as a Kubernetes Service or a serving cluster's router spreads them), and the
 * answer comes back as the replica gave it. Counts what passed through it.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
  /** Requests sent to each replica, by its index. */
  byReplica: number[];
  /** Answers by status code. */
  byStatus: Record<number, number>;
}

export interface RoundRobinProxy {
  /** The base URL, ending in /v1 like the replicas'. */
  url: string;
  stats: ProxyStats;
  close(): Promise<void>;
}

/** Starts a proxy in front of `replicas` (their base URLs on 127.0.0.1, all with the same path). */
export async function startRoundRobinProxy(replicas: string[]): Promise<RoundRobinProxy> {
  const targets = replicas.map((u) => new URL(u));
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const stats: ProxyStats = { requests: 0, inFlight: 0, maxInFlight: 0, byReplica: targets.map(() => 0), byStatus: {} };
  let next = 0;

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const i = next++ % targets.length;
    const target = targets[i]!;
    stats.requests++;
    stats.byReplica[i]!++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      stats.inFlight--;
    };
    res.on('close', finish);
    const upstream = request({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent,
    }, (answer) => {
      const status = answer.statusCode ?? 502;
      stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
      res.writeHead(status, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (res.headersSent) return res.destroy();
      stats.byStatus[502] = (stats.byStatus[502] ?? 0) + 1;
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `bad gateway: ${err.message}` } }));
    });
    req.pipe(upstream);
  }

  const server = createServer(forward);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${targets[0]?.pathname ?? '/v1'}`,
    stats,
    close() {
      server.closeAllConnections();
      agent.destroy();
      return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
