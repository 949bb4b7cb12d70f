"""Pull classifications from brokers' Kafka streams into PostgreSQL (``desctom brokerpoll2``).

* :mod:`.streams`: what to read — one :class:`~.streams.BrokerStream` per broker, from a config
  file or from the reference's ``--do-<broker>`` presets;
* :mod:`.consumer`: :class:`~.consumer.BrokerStreamConsumer` reads one broker's topics in batches
  and stores them (DB commit first, Kafka offsets after);
* :mod:`.supervisor`: :class:`~.supervisor.BrokerPollSupervisor` runs one consumer process per
  broker, restarts silent or dead ones, and shuts them down cleanly.
"""
