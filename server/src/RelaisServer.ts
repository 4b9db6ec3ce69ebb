import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { InMemoryRevocations } from './auth/revocations.js';
import { TokenVerifier } from './auth/tokenVerifier.js';
import type { IssuerKey } from './auth/tokenIssuer.js';
import type { RelaisConfig } from './config/config.js';
import { createAdminApi } from './http/adminApi.js';
import { createHttpApp } from './http/createHttpApp.js';
import { WorkerPool } from './media/WorkerPool.js';
import type { Logger } from './observability/logger.js';
import { RelaisMetrics } from './observability/metrics.js';
import { SignallingServer } from './signalling/SignallingServer.js';

export interface RelaisServerOptions {
  config: RelaisConfig;
  logger: Logger;
}

/**
 * Wires the adapters around the domain from a validated configuration. `main.ts` runs it;
 * integration tests start it in-process on free ports.
 */
export class RelaisServer {
  readonly pool: WorkerPool;
  readonly httpServer: http.Server | https.Server;
  readonly signalling: SignallingServer;
  readonly metrics = new RelaisMetrics();
  /** Tokens and people revoked through the admin API; asked at every connection. */
  readonly revocations: InMemoryRevocations;
  /** The key tokens for this server are signed with, when this server knows it (HS256 or dev). */
  readonly issuerKey: IssuerKey | undefined;
  /** True when no key was configured and a throw-away one was generated (development only). */
  readonly usesThrowawayKey: boolean;
  private started = false;

  constructor(private readonly options: RelaisServerOptions) {
    const { config, logger } = options;
    const { jwt } = config;
    this.revocations = new InMemoryRevocations({ maxTokenLifetimeSeconds: jwt.maxTokenLifetimeSeconds });
    let verifierKey: string;
    if (jwt.publicKeyFile) {
      verifierKey = readFileSync(jwt.publicKeyFile, 'utf8');
    } else if (jwt.secret) {
      verifierKey = jwt.secret;
    } else if (config.env === 'development') {
      verifierKey = randomBytes(32).toString('base64url');
    } else {
      throw new Error('no token key configured');
    }
    this.usesThrowawayKey = !jwt.publicKeyFile && !jwt.secret;
    const claimsCheck = {
      ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
      ...(jwt.audience ? { audience: jwt.audience } : {}),
    };
    this.issuerKey = jwt.algorithm === 'HS256' ? { algorithm: 'HS256', key: verifierKey, ...claimsCheck } : undefined;
    const verifier = new TokenVerifier(
      { algorithm: jwt.algorithm, key: verifierKey, ...claimsCheck, maxLifetimeSeconds: jwt.maxTokenLifetimeSeconds },
      this.revocations,
    );

    this.pool = new WorkerPool({
      workers: config.media.workers,
      listenIp: config.media.listenIp,
      portBase: config.media.portBase,
      ...(config.media.announcedAddress ? { announcedAddress: config.media.announcedAddress } : {}),
      ...(config.media.workerBin ? { workerBin: config.media.workerBin } : {}),
      logger: logger.child({ component: 'media' }),
    });
    this.pool.on('workerDied', () => this.metrics.workerDeaths.inc());
    const admin = createAdminApi(
      config.admin.key,
      {
        revocations: this.revocations,
        endRevokedSessions: (entry) =>
          this.signalling.endSessions((claims) => InMemoryRevocations.matches(entry, claims), 'revoked'),
        rooms: () => this.signalling.roomOverview(),
        closeRoom: (roomId) => this.signalling.endSessions((claims) => claims.room === roomId, 'room-closed'),
      },
      logger.child({ component: 'admin' }),
    );
    const app = createHttpApp(
      {
        ready: () => this.started && this.pool.ready,
        details: () => ({ workers: this.pool.size, rooms: this.signalling.roomCount() }),
      },
      this.metrics,
      () => {
        this.metrics.rooms.set(this.signalling.roomCount());
        this.metrics.participants.set(this.signalling.participantCount());
        this.metrics.workers.set(this.pool.size);
      },
      admin,
    );
    this.httpServer = config.http.tls
      ? https.createServer(
          { cert: readFileSync(config.http.tls.certFile), key: readFileSync(config.http.tls.keyFile) },
          app,
        )
      : http.createServer(app);
    this.signalling = new SignallingServer(this.httpServer, {
      verifier,
      pool: this.pool,
      logger: logger.child({ component: 'signalling' }),
      maxParticipantsPerRoom: config.rooms.maxParticipants,
      media: { consumersPerRouter: config.media.consumersPerRouter, maxRouters: config.media.workers },
      metrics: this.metrics,
      ...(config.turn ? { turn: config.turn } : {}),
    });
  }

  async start(): Promise<void> {
    await this.pool.start();
    const { host, port } = this.options.config.http;
    await new Promise<void>((resolve, reject) => {
      this.httpServer.once('error', reject);
      this.httpServer.listen(port, host, () => {
        this.httpServer.off('error', reject);
        resolve();
      });
    });
    this.started = true;
    this.options.logger.info({ url: this.url }, 'relais is listening');
  }

  /** The address clients use; with port 0 in tests, the port actually bound. */
  get url(): string {
    const address = this.httpServer.address() as AddressInfo | null;
    const { publicUrl, port } = this.options.config.http;
    if (!address || port !== 0) return publicUrl;
    const scheme = this.options.config.http.tls ? 'https' : 'http';
    return `${scheme}://${this.options.config.http.host}:${address.port}`;
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.signalling.close();
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    await this.pool.close();
  }
}
