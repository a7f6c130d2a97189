"""Domain events: envelope, catalogue, transactional outbox, relay, consumers, dead letters."""
