import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCount, formatPercent, formatScore, formatThroughput } from '../../client/model/format';
import { redact, validateSecretName, KnownSecrets } from '../../client/model/redact';
import { describeCommandError } from '../../client/model/errors';

test('scores are floored to two decimals so a failing score never reads as passing', () => {
  assert.equal(formatScore(0.7999), '0.79');
  assert.equal(formatScore(0.93), '0.93');
  assert.equal(formatScore(1), '1.00');
  assert.equal(formatScore(0), '0.00');
  assert.equal(formatScore(1.4), '1.00');
  assert.equal(formatScore(NaN), '–');
});

test('percentages, throughput and counts', () => {
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(0.0004), '<0.1%');
  assert.equal(formatPercent(0.053), '5.3%');
  assert.equal(formatPercent(0.25), '25%');
  assert.equal(formatThroughput(4.25), '4.3 rec/s');
  assert.equal(formatThroughput(840.4), '840 rec/s');
  assert.equal(formatThroughput(12_345), '12.3k rec/s');
  assert.equal(formatThroughput(2000), '2k rec/s');
  assert.equal(formatThroughput(1_250_000), '1.3M rec/s');
  assert.equal(formatCount(1234567), '1,234,567');
  assert.equal(formatCount(999), '999');
});

test('redaction masks known values, URL passwords and password/token parameters', () => {
  const known = new KnownSecrets();
  known.remember('kafka-prod', 's3cr3t-pass');
  known.remember('short', 'ab');
  assert.equal(redact('SASL login failed with s3cr3t-pass for alice', known), 'SASL login failed with •••• for alice');
  assert.equal(redact('connect redis://bob:hunter2@10.0.0.1:6379/orders'), 'connect redis://bob:••••@10.0.0.1:6379/orders');
  assert.equal(redact('pulsar+ws://h:8080/ws?token=eyJhbGciOi.x.y&x=1'), 'pulsar+ws://h:8080/ws?token=••••&x=1');
  assert.equal(redact('password: "p w"; next'), 'password: ••••; next');
  // Short known values are not masked everywhere (it would mangle text), and secret names stay.
  assert.equal(redact('about ab and ?secret=kafka-prod', known), 'about ab and ?secret=kafka-prod');
  known.forget('kafka-prod');
  assert.equal(redact('s3cr3t-pass', known), 's3cr3t-pass');
});

test('secret names are validated with a message that says what is allowed', () => {
  assert.equal(validateSecretName('kafka-prod.password'), undefined);
  assert.equal(validateSecretName(''), 'Enter the name a config file uses for this secret, for example kafka-prod-password.');
  assert.equal(validateSecretName('has space'), 'A secret name may hold letters, digits, ".", "_", "-" and "/" only.');
  assert.equal(validateSecretName('x'.repeat(129)), 'A secret name has at most 128 characters.');
});

test('command errors become one actionable sentence without secrets', () => {
  assert.equal(
    describeCommandError('start the demo', new Error('Client is not running and can\'t be stopped.')),
    'Cannot start the demo: the Clean Streams agent is not running. Run "Clean: Restart Agent" and try again; the "Clean Streams" output shows why it stopped.',
  );
  assert.equal(
    describeCommandError('monitor the topic', new Error('Cannot reach Kafka at 127.0.0.1:9092 (ECONNREFUSED)'), ['hunter22']),
    'Cannot monitor the topic: Cannot reach Kafka at 127.0.0.1:9092 (ECONNREFUSED).',
  );
  assert.equal(describeCommandError('store the secret', 'bad password=hunter22 given'), 'Cannot store the secret: bad password=•••• given.');
});
