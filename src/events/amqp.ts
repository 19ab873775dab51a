import { Connection, type Publisher } from 'rabbitmq-client';
import type { CloudEvent } from '../contracts/events.js';
import { redact as redactText, registerSecret } from '../security/redact.js';

export interface EventSink {
  readonly name: string;
  /** Resolves once the event is safely handed over (AMQP: confirmed by the broker). */
  publish(event: CloudEvent): Promise<void>;
  status(): { state: 'ok' | 'degraded'; error: string | null };
  close(): Promise<void>;
}

export interface AmqpOptions {
  url: string;
  exchange: string;
  queue: string;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** The broker names derived from the settings (API.md "Events out"). */
export function amqpNames(exchange: string, queue: string) {
  return { exchange, queue, dlx: `${exchange}.dlx`, dlq: `${queue}.dlq` };
}

/**
 * Publishes CloudEvents to RabbitMQ: durable topic exchange, routing key = type, persistent,
 * `application/cloudevents+json`, `message-id` = id, publisher confirms (a publish resolves only
 * once the broker confirmed it), `mandatory` with returns logged. Declares the exchange, the
 * `…v1` queue bound with `#` and its dead-letter exchange and queue on every (re)connect.
 * Reconnects by itself (backoff capped at 2 s, so publishing resumes quickly after an outage).
 */
export class AmqpSink implements EventSink {
  readonly name = 'amqp';
  private readonly conn: Connection;
  private readonly pub: Publisher;
  private lastError: string | null = null;
  private readonly names;

  constructor(private readonly opts: AmqpOptions) {
    this.names = amqpNames(opts.exchange, opts.queue);
    try {
      const password = new URL(opts.url).password;
      if (password) registerSecret(decodeURIComponent(password));
    } catch {
      // Not a URL the broker client accepts either; its error says so.
    }
    const { exchange, queue, dlx, dlq } = this.names;
    this.conn = new Connection({ url: opts.url, retryLow: 200, retryHigh: 2000, connectionTimeout: 3000, acquireTimeout: 3000, connectionName: 'syncline' });
    this.conn.on('error', (err: unknown) => {
      this.lastError = redactText(err instanceof Error ? err.message : String(err));
    });
    this.conn.on('connection', () => {
      this.lastError = null;
      opts.log.info({ exchange }, 'AMQP connected');
    });
    this.pub = this.conn.createPublisher({
      confirm: true,
      maxAttempts: 1,
      exchanges: [
        { exchange, type: 'topic', durable: true },
        { exchange: dlx, type: 'topic', durable: true },
      ],
      queues: [
        { queue, durable: true, arguments: { 'x-dead-letter-exchange': dlx } },
        { queue: dlq, durable: true },
      ],
      queueBindings: [
        { exchange, queue, routingKey: '#' },
        { exchange: dlx, queue: dlq, routingKey: '#' },
      ],
      onReturn: (msg) => {
        opts.log.warn({ exchange: msg.exchange, routing_key: msg.routingKey, message_id: msg.messageId, reply_text: msg.replyText }, 'AMQP message returned unroutable');
      },
    });
  }

  async publish(event: CloudEvent): Promise<void> {
    try {
      await this.pub.send(
        {
          exchange: this.names.exchange,
          routingKey: event.type,
          durable: true,
          mandatory: true,
          contentType: 'application/cloudevents+json',
          messageId: event.id,
          timestamp: Math.floor(Date.now() / 1000),
        },
        // A Buffer: with a string the client would force `text/plain`.
        Buffer.from(JSON.stringify(event), 'utf8'),
      );
      this.lastError = null;
    } catch (err) {
      this.lastError = redactText(err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  status() {
    const ok = this.conn.ready && this.lastError === null;
    return { state: ok ? ('ok' as const) : ('degraded' as const), error: ok ? null : (this.lastError ?? 'not connected') };
  }

  async close(): Promise<void> {
    await this.pub.close().catch(() => undefined);
    await this.conn.close().catch(() => undefined);
  }
}
