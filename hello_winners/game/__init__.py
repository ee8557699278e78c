"""The game played on the stream: the seeded simulator, event logs, stream I/O, the recorded day and the
reference winners computed independently of the consumer."""
