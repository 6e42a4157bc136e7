// The orders service publishes each order with kafkajs.
const { Kafka } = require('kafkajs');

const producer = new Kafka({ brokers: ['localhost:9092'] }).producer();

async function publish(order) {
  await producer.send({ topic: 'orders.v1', messages: [{ key: order.id, value: JSON.stringify(order) }] });
}

module.exports = { publish };
