"""Streaming, one module per role:

- :mod:`~lpmbench.streaming.driver`: the driver, :func:`run_stream` plays a case into a stream
  session in real time (paced duplex replay) and times every frame.
- :mod:`~lpmbench.streaming.protocol`: the WebSocket protocol's messages (docs/streaming_protocol.md).
- :mod:`~lpmbench.streaming.remote`: the client adapter, ``model=remote`` (a generator behind a server).
- :mod:`~lpmbench.streaming.server`: the server library, :func:`serve` wraps a model in a few lines.
- :mod:`~lpmbench.streaming.puppet_server`: the reference server, the puppet baseline behind the
  protocol (``python -m lpmbench.streaming.puppet_server --port N``).
- :mod:`~lpmbench.streaming.synthetic_session`: a cheap causal session for tests and benchmarks.
- :mod:`~lpmbench.streaming.timing`: the streaming timing record.
"""
