import { startupSettings } from '../protocol/startup-settings.js';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import * as msg from '../protocol/backend.js';
import type { PgNotice } from '../protocol/backend.js';
import { ProtocolError } from '../errors/sql-error.js';
import { Frontend } from '../protocol/codes.js';
import { MessageFramer, type FrontendMessage } from '../protocol/framer.js';
import { decodeSaslInitialResponse, decodeSaslResponse, decodeStartupPacket } from '../protocol/frontend.js';
import { MessageWriter } from '../protocol/writer.js';
import type { EngineClient } from '../engine/client.js';
import type { SessionStart } from '../engine/messages.js';
import { ScramError, ScramExchange, type ScramVerifier } from './scram.js';

const PROTOCOL_3 = 3;
/** Authentication messages are small; an unauthenticated client may not make the server buffer more. */
const MAX_AUTH_MESSAGE_BYTES = 64 * 1024;
const INPUT_HIGH_WATER = 16 * 1024 * 1024;
const INPUT_LOW_WATER = 4 * 1024 * 1024;
const AUTH_TIMEOUT_MS = 60_000;

/** What a connection needs from the server that accepted it. */
export interface ConnectionHost {
  engine: EngineClient;
  verifier: ScramVerifier | null;
  user: string;
  tls: SecureContext | null;
  maxMessageBytes: number;
  /** Registers a session for cancel requests; returns false when the server is full. */
  register(conn: ClientConnection): boolean;
  unregister(conn: ClientConnection): void;
  cancel(pid: number, secret: number): void;
}

type State = 'startup' | 'sasl-initial' | 'sasl-final' | 'opening' | 'ready' | 'closed';

/**
 * One client socket on the server thread: startup, TLS, authentication and framing happen here;
 * after that, whole messages go to the session in the engine and its bytes come back.
 */
export class ClientConnection {
  private socket: Socket;
  private framer: MessageFramer;
  private state: State = 'startup';
  private scram: ScramExchange | null = null;
  private start: SessionStart = { user: '', database: '', applicationName: '', settings: [], clientAddr: null, clientPort: null };
  private pendingInput = 0;
  private paused = false;
  private authTimer: NodeJS.Timeout;
  private engineOpen = false;
  /** The client sent Terminate: its session finishes what it had queued instead of being interrupted. */
  private terminating = false;

  constructor(socket: Socket, readonly pid: number, readonly secret: number, private readonly host: ConnectionHost) {
    this.socket = socket;
    this.framer = new MessageFramer(host.maxMessageBytes);
    this.attach(socket);
    this.authTimer = setTimeout(() => this.fatal({ code: '08006', message: 'authentication timed out' }), AUTH_TIMEOUT_MS);
  }

  private attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => this.closed());
    socket.on('close', () => this.closed());
  }

  private onData(data: Buffer): void {
    if (this.state === 'closed') return;
    this.framer.push(data);
    this.drain();
  }

  private drain(): void {
    const forward: Buffer[] = [];
    try {
      // A client may send its first queries right behind the startup (or SASL) message; they wait
      // in the framer until the engine has opened the session.
      for (let m = this.nextMessage(); m; m = this.nextMessage()) {
        if (this.state === 'ready') {
          if (m.code === Frontend.Terminate) {
            // The session ends after the messages before it; it then closes the socket.
            forward.push(frame(m));
            this.flushForward(forward);
            this.terminating = true;
            this.state = 'closed';
            clearTimeout(this.authTimer);
            return;
          }
          forward.push(frame(m));
        } else {
          this.onHandshake(m);
          if ((this.state as State) === 'closed' || this.upgrading) return;
        }
      }
    } catch (err) {
      this.flushForward(forward);
      const e = err instanceof ProtocolError ? err : new ProtocolError(String(err));
      this.fatal({ code: e.code, message: e.message });
      return;
    }
    this.flushForward(forward);
  }

  private nextMessage(): FrontendMessage | null {
    return this.state === 'opening' ? null : this.framer.next();
  }

  private flushForward(forward: Buffer[]): void {
    if (!forward.length) return;
    const data = forward.length === 1 ? forward[0]! : Buffer.concat(forward);
    this.pendingInput += data.length;
    this.host.engine.input(this.pid, data);
    if (this.pendingInput > INPUT_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private upgrading = false;

  private onHandshake(m: FrontendMessage): void {
    if (this.state === 'startup') {
      const packet = decodeStartupPacket(m.body);
      switch (packet.type) {
        case 'ssl-request': return this.onSslRequest();
        case 'gssenc-request':
          this.socket.write('N');
          return;
        case 'cancel-request':
          this.host.cancel(packet.pid, packet.secret);
          this.socket.end();
          this.closed();
          return;
        case 'startup':
          if (packet.major !== PROTOCOL_3) {
            throw new ProtocolError(`unsupported frontend protocol ${packet.major}.${packet.minor}: server supports 3.0`, '0A000');
          }
          this.onStartup(packet.minor, packet.parameters);
          return;
      }
    }
    if (this.state === 'sasl-initial') {
      const { mechanism, data } = decodeSaslInitialResponse(m);
      if (mechanism !== 'SCRAM-SHA-256') return this.authFailed(`unsupported SASL mechanism "${mechanism}"`);
      try {
        const reply = this.scram!.start(data);
        const w = new MessageWriter(256);
        msg.authenticationSaslContinue(w, reply);
        this.socket.write(w.take());
        this.state = 'sasl-final';
      } catch (err) {
        this.authFailed(err instanceof ScramError ? err.message : String(err));
      }
      return;
    }
    if (this.state === 'sasl-final') {
      const response = decodeSaslResponse(m);
      try {
        const final = this.scram!.finish(response);
        if (this.start.user !== this.host.user) throw new ScramError('password authentication failed');
        const w = new MessageWriter(256);
        msg.authenticationSaslFinal(w, final);
        this.socket.write(w.take());
        this.openSession();
      } catch {
        this.authFailed(`password authentication failed for user "${this.start.user}"`);
      }
      return;
    }
    throw new ProtocolError('unexpected message during authentication');
  }

  private onSslRequest(): void {
    if (!this.host.tls) {
      this.socket.write('N');
      return;
    }
    this.socket.write('S');
    this.upgrading = true;
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('error');
    raw.removeAllListeners('close');
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.host.tls });
    this.socket = secure;
    this.attach(secure);
    this.upgrading = false;
  }

  private onStartup(minorVersion: number, params: Map<string, string>): void {
    const user = params.get('user');
    if (!user) throw new ProtocolError('no PostgreSQL user name specified in startup packet', '28000');
    this.start = {
      user, database: params.get('database') ?? user, applicationName: params.get('application_name') ?? '', settings: startupSettings(params),
      clientAddr: this.socket.remoteAddress?.replace(/^::ffff:/, '') ?? null, clientPort: this.socket.remotePort ?? null,
    };
    this.framer.expectStartup = false;
    this.framer.maxMessageBytes = Math.min(MAX_AUTH_MESSAGE_BYTES, this.host.maxMessageBytes);
    const w = new MessageWriter(256);
    const unknownOptions = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
    if (minorVersion !== 0 || unknownOptions.length) msg.negotiateProtocolVersion(w, 0, unknownOptions);
    if (!this.host.register(this)) {
      this.socket.write(w.take());
      this.fatal({ code: '53300', message: 'sorry, too many clients already' });
      return;
    }
    if (this.host.verifier) {
      this.scram = new ScramExchange(this.host.verifier);
      msg.authenticationSasl(w, ['SCRAM-SHA-256']);
      this.socket.write(w.take());
      this.state = 'sasl-initial';
      return;
    }
    if (w.length) this.socket.write(w.take());
    this.openSession();
  }

  private authFailed(message: string): void {
    this.fatal({ code: '28P01', message });
  }

  private openSession(): void {
    clearTimeout(this.authTimer);
    this.state = 'opening';
    this.framer.maxMessageBytes = this.host.maxMessageBytes;
    this.socket.pause();
    this.engineOpen = true;
    this.host.engine.open(this.pid, this.start, {
      opened: (error, parameters) => {
        if (error) {
          this.engineOpen = false;
          if (this.state === 'closed') return this.host.unregister(this);
          return this.fatal(error);
        }
        if (this.state === 'closed') return;
        const w = new MessageWriter(1024);
        msg.authenticationOk(w);
        for (const [k, v] of parameters) msg.parameterStatus(w, k, v);
        msg.backendKeyData(w, this.pid, this.secret);
        this.socket.write(w.take());
        this.state = 'ready';
        this.socket.resume();
        this.drain();
      },
      output: (data) => {
        if (this.state === 'closed') return this.host.engine.ack(this.pid, data.length);
        this.socket.write(data, () => this.host.engine.ack(this.pid, data.length));
      },
      consumed: (bytes) => {
        this.pendingInput -= bytes;
        if (this.paused && this.pendingInput < INPUT_LOW_WATER) {
          this.paused = false;
          this.socket.resume();
        }
      },
      ended: () => {
        this.engineOpen = false;
        this.socket.end();
        this.closed();
        this.host.unregister(this);
      },
    });
  }

  /** Sends a FATAL error and closes the connection. */
  private fatal(n: Omit<PgNotice, 'severity'>): void {
    if (this.state === 'closed') return;
    const w = new MessageWriter(256);
    msg.errorResponse(w, { severity: 'FATAL', ...n });
    this.socket.end(w.take());
    this.closed();
  }

  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.authTimer);
    // The slot stays taken until the engine has ended the session (and stopped its query), so
    // maxConnections bounds the sessions in the engine, not just the open sockets.
    if (this.engineOpen && !this.terminating) this.host.engine.close(this.pid);
    else if (!this.engineOpen) this.host.unregister(this);
    // A peer that stops reading must not keep the socket (and its buffers) alive.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  /** Forwards a cancel request to the engine when the key matches. */
  cancelIfMatches(secret: number): boolean {
    if (secret !== this.secret || !this.engineOpen) return false;
    this.host.engine.cancel(this.pid);
    return true;
  }
}

function frame(m: FrontendMessage): Buffer {
  const b = Buffer.allocUnsafe(5 + m.body.length);
  b[0] = m.code;
  b.writeInt32BE(m.body.length + 4, 1);
  m.body.copy(b, 5);
  return b;
}
