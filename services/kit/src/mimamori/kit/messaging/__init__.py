"""Events between services: envelope, buses (Kafka, in-process), transactional outbox and inbox."""
