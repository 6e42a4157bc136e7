/**
 * kafkajs failures as messages a person can act on: what happened, where, and whether waiting can fix it.
 * Also the plain-data form of an error, so a failure in the fetch thread crosses into the main thread intact.
 */
import { redact } from '../../secrets/redact';

/** What a kafkajs failure means for a person, and whether waiting can fix it. */
export interface KafkaFailure {
  code: 'unreachable' | 'dns' | 'auth' | 'tls' | 'unknown-topic' | 'authorization' | 'kafka';
  /** What happened, where, and what to do (without a "Retrying in …" tail, which the caller adds). */
  message: string;
  retriable: boolean;
}

/** Where the failure happened, for the message; never carries a secret. */
export interface KafkaWhere {
  brokers: string;
  topic: string;
  username?: string;
  mechanism?: string;
  secretName?: string;
}

export type ErrorShape = { name?: string; message?: string; code?: string; type?: string; retriable?: boolean; cause?: unknown };

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN']);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
  'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_OSSL_PEM_NO_START_LINE',
]);
const AUTHORIZATION_TYPES = new Set(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED']);

/** The error and its causes, outermost first (kafkajs wraps the real reason in retry errors). */
export function causeChain(err: unknown): ErrorShape[] {
  const chain: ErrorShape[] = [];
  let e: unknown = err;
  while (e && typeof e === 'object' && chain.length < 8) {
    chain.push(e as ErrorShape);
    const next = (e as ErrorShape).cause;
    if (next === e) break;
    e = next;
  }
  if (chain.length === 0) chain.push({ message: String(err) });
  return chain;
}

/** Maps a kafkajs error (any wrapping) to a message a person can act on. */
export function describeKafkaError(err: unknown, where: KafkaWhere): KafkaFailure {
  const chain = causeChain(err);
  const at = `Kafka at ${where.brokers}`;
  const find = (test: (e: ErrorShape) => boolean): ErrorShape | undefined => chain.find(test);
  const text = (e: ErrorShape): string => String(e.message ?? '');

  const sasl = find((e) => e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'SASL_AUTHENTICATION_FAILED' || /SASL .*authentication failed/i.test(text(e)));
  if (sasl) {
    const who = where.username ? `user "${where.username}"` : 'the configured user';
    const mech = where.mechanism ? ` with ${where.mechanism.toUpperCase()}` : '';
    const secret = where.secretName ? ` and the password stored as secret "${where.secretName}"` : '';
    return { code: 'auth', retriable: false, message: `${at} refused to authenticate ${who}${mech}. Check the user name${secret}, and that the broker allows this SASL mechanism.` };
  }
  const mechanism = find((e) => e.type === 'UNSUPPORTED_SASL_MECHANISM' || e.type === 'ILLEGAL_SASL_STATE');
  if (mechanism) {
    const mech = where.mechanism ? where.mechanism.toUpperCase() : 'the requested SASL mechanism';
    return { code: 'auth', retriable: false, message: `${at} does not accept ${mech} on this listener. Use a mechanism the broker enables (mechanism=plain, scram-sha-256 or scram-sha-512), or the listener's port that has SASL.` };
  }
  // The errno-style code names the TLS problem best; the message is the fallback (a plaintext port hangs up mid-handshake).
  const tls = find((e) => e.code !== undefined && TLS_CODES.has(e.code)) ?? find((e) => /\b(TLS|SSL)\b|certificate/i.test(text(e)));
  if (tls) {
    const reason = tls.code && tls.code !== 'EPROTO' && TLS_CODES.has(tls.code) ? tls.code : text(tls).replace(/^Connection error: /, '').split('\n')[0];
    return { code: 'tls', retriable: false, message: `TLS connection to ${at} failed (${reason}). Check that this port speaks TLS and that tls.ca names the CA that signed the broker's certificate (and tls.cert/tls.key when the broker asks for a client certificate).` };
  }
  const topic = find((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION');
  if (topic) {
    return { code: 'unknown-topic', retriable: false, message: `Topic "${where.topic}" does not exist on ${at}. Check the topic name, or create the topic (kafka-topics.sh --bootstrap-server ${where.brokers} --create --topic ${where.topic}).` };
  }
  const denied = find((e) => e.type !== undefined && AUTHORIZATION_TYPES.has(e.type));
  if (denied) {
    const who = where.username ? `User "${where.username}"` : 'This client';
    return { code: 'authorization', retriable: false, message: `${who} may not read topic "${where.topic}" on ${at} (${denied.type}). Grant Describe and Read on the topic, and Read on consumer groups prefixed "clean-monitor-".` };
  }
  const dns = find((e) => e.code === 'ENOTFOUND' || /getaddrinfo ENOTFOUND/.test(text(e)));
  if (dns) {
    return { code: 'dns', retriable: false, message: `Cannot resolve the Kafka host in ${where.brokers} (ENOTFOUND). Check the host name in the source URL.` };
  }
  const unreachable = find(
    (e) =>
      (e.code !== undefined && UNREACHABLE_CODES.has(e.code)) ||
      e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError' || e.name === 'KafkaJSRequestTimeoutError' ||
      e.name === 'KafkaJSBrokerNotFound' || e.name === 'KafkaJSNoBrokerAvailableError' || e.name === 'KafkaJSGroupCoordinatorNotFound' ||
      /Connection (timeout|error)|Closed connection|ECONNREFUSED/.test(text(e)),
  );
  if (unreachable) {
    const code = unreachable.code ?? /\b(E[A-Z]{4,})\b/.exec(text(unreachable))?.[1] ?? (/time(d )?out/i.test(text(unreachable)) ? 'timed out' : 'connection lost');
    return { code: 'unreachable', retriable: true, message: `Cannot reach ${at} (${code}). Is the broker running?` };
  }
  const last = chain[chain.length - 1];
  const retriable = chain.some((e) => e.retriable === true) || chain[0].name === 'KafkaJSNumberOfRetriesExceeded';
  // kafkajs texts can quote broker strings as written: they pass the one redaction before any user sees them.
  const detail = redact(last.type ? `${last.type}: ${text(last)}` : text(last));
  return { code: 'kafka', retriable, message: `${at}, topic "${where.topic}": ${detail}` };
}

export function isUnknownTopic(err: unknown): boolean {
  return causeChain(err).some((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION');
}

/** Error fields that describeKafkaError reads, as plain data (for posting across threads). */
export function errorShape(err: unknown, depth = 0): ErrorShape {
  if (!err || typeof err !== 'object') return { message: String(err) };
  const e = err as ErrorShape;
  const shape: ErrorShape = { name: e.name, message: e.message, code: e.code, type: e.type, retriable: e.retriable };
  if (e.cause && e.cause !== err && depth < 6) shape.cause = errorShape(e.cause, depth + 1);
  return shape;
}
