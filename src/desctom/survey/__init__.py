"""Kafka and Avro: alert and broker-classification messages, producers and consumers."""
