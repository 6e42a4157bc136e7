/**
 * describeKafkaError: kafkajs error shapes (built with kafkajs' own error classes, wrapped the way its retrier
 * wraps them, and as the plain objects the fetch thread posts) -> messages a person can act on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as kafkajs from 'kafkajs';
import {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { describeKafkaError, type KafkaWhere } from '../../server/sources/kafka';

const where: KafkaWhere = { brokers: 'kafka-1:9092,kafka-2:9092', topic: 'orders' };
const sasl: KafkaWhere = { ...where, username: 'monitor', mechanism: 'scram-sha-512', secretName: 'prod-kafka' };

/** A broker error code the way kafkajs' protocol layer raises it. */
function protocolError(type: string, message: string, retriable: boolean): Error {
  return new KafkaJSProtocolError(Object.assign(new Error(message), { type, code: 0, retriable }));
}
const retried = (cause: Error) => new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 3000 });
// Exported by kafkajs at run time, missing from its type declarations.
const { KafkaJSConnectionClosedError } = kafkajs as unknown as { KafkaJSConnectionClosedError: new (message: string, where: { host: string; port: number }) => Error };
const SaslError = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;

test('connection refused, wrapped by the retrier: unreachable, retriable, with the errno', () => {
  const err = retried(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 10.0.0.1:9092', { broker: '10.0.0.1:9092', code: 'ECONNREFUSED' }));
  assert.deepEqual(describeKafkaError(err, where), {
    code: 'unreachable',
    retriable: true,
    message: 'Cannot reach Kafka at kafka-1:9092,kafka-2:9092 (ECONNREFUSED). Is the broker running?',
  });
});

test('connection timeout, closed connection and request timeout are all "cannot reach", with what happened', () => {
  assert.equal(describeKafkaError(new KafkaJSConnectionError('Connection timeout', { broker: 'kafka-1:9092' }), where).message, 'Cannot reach Kafka at kafka-1:9092,kafka-2:9092 (timed out). Is the broker running?');
  const closed = new KafkaJSConnectionClosedError('Closed connection', { host: 'kafka-1', port: 9092 });
  assert.deepEqual(describeKafkaError(closed, where), { code: 'unreachable', retriable: true, message: 'Cannot reach Kafka at kafka-1:9092,kafka-2:9092 (connection lost). Is the broker running?' });
  const timeout = new KafkaJSRequestTimeoutError('Request Fetch(key: 1, version: 11) timed out');
  assert.equal(describeKafkaError(timeout, where).code, 'unreachable');
  assert.equal(describeKafkaError(timeout, where).message, 'Cannot reach Kafka at kafka-1:9092,kafka-2:9092 (timed out). Is the broker running?');
});

test('SASL authentication failure: which user, which mechanism, which secret; not retried', () => {
  const err = new SaslError('SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512');
  assert.deepEqual(describeKafkaError(err, sasl), {
    code: 'auth',
    retriable: false,
    message: 'Kafka at kafka-1:9092,kafka-2:9092 refused to authenticate user "monitor" with SCRAM-SHA-512. Check the user name and the password stored as secret "prod-kafka", and that the broker allows this SASL mechanism.',
  });
  // The broker's own error code (SaslAuthenticate response) maps the same way.
  assert.equal(describeKafkaError(protocolError('SASL_AUTHENTICATION_FAILED', 'Authentication failed', false), sasl).code, 'auth');
});

test('a SASL mechanism the listener does not enable', () => {
  const err = protocolError('UNSUPPORTED_SASL_MECHANISM', 'The broker does not support the requested SASL mechanism', false);
  assert.deepEqual(describeKafkaError(err, { ...sasl, mechanism: 'plain' }), {
    code: 'auth',
    retriable: false,
    message: "Kafka at kafka-1:9092,kafka-2:9092 does not accept PLAIN on this listener. Use a mechanism the broker enables (mechanism=plain, scram-sha-256 or scram-sha-512), or the listener's port that has SASL.",
  });
});

test('TLS failures: certificate codes from Node and a plaintext port answering a TLS client', () => {
  const tail = "Check that this port speaks TLS and that tls.ca names the CA that signed the broker's certificate (and tls.cert/tls.key when the broker asks for a client certificate).";
  const selfSigned = new KafkaJSConnectionError('Connection error: self-signed certificate', { broker: 'kafka-1:9093', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  assert.deepEqual(describeKafkaError(retried(selfSigned), where), {
    code: 'tls',
    retriable: false,
    message: `TLS connection to Kafka at kafka-1:9092,kafka-2:9092 failed (DEPTH_ZERO_SELF_SIGNED_CERT). ${tail}`,
  });
  const leaf = new KafkaJSConnectionError('Connection error: unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  assert.equal(describeKafkaError(leaf, where).message, `TLS connection to Kafka at kafka-1:9092,kafka-2:9092 failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE). ${tail}`);
  const altName = new KafkaJSConnectionError("Connection error: Hostname/IP does not match certificate's altnames", { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  assert.equal(describeKafkaError(altName, where).code, 'tls');
  const plaintext = new KafkaJSConnectionError('Connection error: Client network socket disconnected before secure TLS connection was established', { code: 'ECONNRESET' });
  assert.deepEqual(describeKafkaError(plaintext, where), {
    code: 'tls',
    retriable: false,
    message: `TLS connection to Kafka at kafka-1:9092,kafka-2:9092 failed (Client network socket disconnected before secure TLS connection was established). ${tail}`,
  });
});

test('unknown topic after the retries: the name and how to create it', () => {
  const err = retried(protocolError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition', true));
  assert.deepEqual(describeKafkaError(err, where), {
    code: 'unknown-topic',
    retriable: false,
    message: 'Topic "orders" does not exist on Kafka at kafka-1:9092,kafka-2:9092. Check the topic name, or create the topic (kafka-topics.sh --bootstrap-server kafka-1:9092,kafka-2:9092 --create --topic orders).',
  });
});

test('authorization: which user may not read what, and which ACLs the monitor needs', () => {
  const err = protocolError('GROUP_AUTHORIZATION_FAILED', 'Not authorized to access group', false);
  assert.deepEqual(describeKafkaError(err, sasl), {
    code: 'authorization',
    retriable: false,
    message: 'User "monitor" may not read topic "orders" on Kafka at kafka-1:9092,kafka-2:9092 (GROUP_AUTHORIZATION_FAILED). Grant Describe and Read on the topic, and Read on consumer groups prefixed "clean-monitor-".',
  });
});

test('a host name that does not resolve is not retried', () => {
  const err = retried(new KafkaJSConnectionError('Connection error: getaddrinfo ENOTFOUND kafka-1', { code: 'ENOTFOUND' }));
  assert.deepEqual(describeKafkaError(err, where), {
    code: 'dns',
    retriable: false,
    message: 'Cannot resolve the Kafka host in kafka-1:9092,kafka-2:9092 (ENOTFOUND). Check the host name in the source URL.',
  });
});

test('plain objects posted by the fetch thread map exactly like the live errors', () => {
  const posted = {
    name: 'KafkaJSNumberOfRetriesExceeded',
    message: 'Connection error: connect ECONNREFUSED 10.0.0.1:9092',
    retriable: false,
    cause: { name: 'KafkaJSConnectionError', message: 'Connection error: connect ECONNREFUSED 10.0.0.1:9092', code: 'ECONNREFUSED', retriable: true },
  };
  assert.deepEqual(describeKafkaError(posted, where), describeKafkaError(retried(new KafkaJSConnectionError(posted.message, { code: 'ECONNREFUSED' })), where));
  assert.equal(describeKafkaError({ type: 'UNKNOWN_TOPIC_OR_PARTITION', message: 'Unknown topic orders' }, where).code, 'unknown-topic');
});

test('anything else keeps the broker error code; retriable when kafkajs says so', () => {
  assert.deepEqual(describeKafkaError(retried(protocolError('NOT_COORDINATOR', 'This is not the correct coordinator for this group', true)), where), {
    code: 'kafka',
    retriable: true,
    message: 'Kafka at kafka-1:9092,kafka-2:9092, topic "orders": NOT_COORDINATOR: This is not the correct coordinator for this group',
  });
  assert.deepEqual(describeKafkaError(new Error('Invariant violated'), where), {
    code: 'kafka',
    retriable: false,
    message: 'Kafka at kafka-1:9092,kafka-2:9092, topic "orders": Invariant violated',
  });
  assert.deepEqual(describeKafkaError('weird', where), { code: 'kafka', retriable: false, message: 'Kafka at kafka-1:9092,kafka-2:9092, topic "orders": weird' });
});
