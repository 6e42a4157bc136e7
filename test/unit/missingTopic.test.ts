/** The "does not exist; did you mean" message of a missing topic, and the edit distance behind it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestName, editDistance, missingTopicMessage } from '../../server/sources/missingTopic';

test('edit distance: insertions, deletions, substitutions; cut off past the limit', () => {
  assert.equal(editDistance('orderz', 'orders'), 1);
  assert.equal(editDistance('orders', 'order'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('same', 'same'), 0);
  assert.equal(editDistance('kitten', 'sitting', 2), 3);
  assert.equal(editDistance('a', 'abcdef', 2), 3);
});

test('a close name is offered, a far one is not, the same name is no suggestion', () => {
  assert.equal(closestName('orderz', ['payments', 'orders', 'users']), 'orders');
  // One slip per four characters, at most three: "ordr" (4) allows 1, "orders-eu-west" allows 3.
  assert.equal(closestName('ordr', ['order', 'ord']), 'ord');
  assert.equal(closestName('ordr', ['orders']), undefined);
  assert.equal(closestName('orders-eu-west', ['orders-us-east']), undefined);
  assert.equal(closestName('orders-eu-west', ['orders-eu-east']), 'orders-eu-east');
  assert.equal(closestName('orders', ['orders']), undefined);
  assert.equal(closestName('orders', []), undefined);
  // Ties go to the first in sort order, whatever order the broker listed them in.
  assert.equal(closestName('ordera', ['orderc', 'orderb']), 'orderb');
});

test('the message names the topic, the address and the suggestion when there is one', () => {
  assert.equal(missingTopicMessage('topic', 'orderz', '127.0.0.1:9092', ['orders', '__consumer_offsets']), 'topic orderz does not exist on 127.0.0.1:9092; did you mean orders?');
  assert.equal(missingTopicMessage('stream', 'clicks', '127.0.0.1:6379', ['orders']), 'stream clicks does not exist on 127.0.0.1:6379; waiting for it to be created');
});
