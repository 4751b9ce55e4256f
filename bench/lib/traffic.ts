// Socket bytes by kind in a benchmark worker process, so /proc/self/io's total (what the gossip
// bench counts) can be split: libp2p connections, HTTP served by the nodes (the logs' pushes),
// HTTP the nodes ask for (tile polls). Uses Node's net diagnostics channels; a socket's bytes
// count under the kind it had when it connected.
import { channel } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

export type TrafficKind = 'p2p' | 'httpIn' | 'httpOut' | 'other';

export class SocketTraffic {
  private readonly live = new Map<Socket, TrafficKind>();
  private readonly closed: Record<TrafficKind, number> = { p2p: 0, httpIn: 0, httpOut: 0, other: 0 };
  /** Local ports of the nodes' HTTP servers and libp2p listeners; remote ports of libp2p peers. */
  readonly httpPorts = new Set<number>();
  readonly p2pPorts = new Set<number>();

  start(): void {
    channel('net.server.socket').subscribe((m) => this.track((m as { socket: Socket }).socket, true));
    channel('net.client.socket').subscribe((m) => this.track((m as { socket: Socket }).socket, false));
  }

  private track(sock: Socket, inbound: boolean): void {
    const classify = () => {
      const port = inbound ? sock.localPort : sock.remotePort;
      const kind: TrafficKind = port === undefined ? 'other' : this.p2pPorts.has(port) ? 'p2p' : inbound && this.httpPorts.has(port) ? 'httpIn' : inbound ? 'other' : 'httpOut';
      this.live.set(sock, kind);
    };
    if (inbound) classify();
    else sock.once('connect', classify);
    sock.once('close', () => {
      const kind = this.live.get(sock);
      if (kind) this.closed[kind] += sock.bytesRead + sock.bytesWritten;
      this.live.delete(sock);
    });
  }

  /** Bytes read + written so far, by kind (closed sockets included). */
  totals(): Record<TrafficKind, number> {
    const t = { ...this.closed };
    for (const [s, k] of this.live) t[k] += s.bytesRead + s.bytesWritten;
    return t;
  }
}
