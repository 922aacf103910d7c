"""The plan: the stage graph with its content hashes, the carry-over rule, the resources (encoder, data) and
their identity, what the plan reads, and its sources of randomness. Nothing here trains or evaluates."""
