"""The Open Inference Protocol's gRPC form: its ``.proto``, the messages, the service."""
