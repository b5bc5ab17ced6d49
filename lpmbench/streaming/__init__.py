"""Streaming: paced duplex replay, the WebSocket protocol (client adapter + server library), references.

- :func:`lpmbench.streaming.replay.run_stream` plays a case into a stream session in real time.
- :class:`lpmbench.streaming.client.RemoteAdapter` drives a generator in another process.
- :func:`lpmbench.streaming.server.serve` wraps a model as a server in a few lines.
- ``python -m lpmbench.streaming.puppet_server --port N`` serves the puppet baseline.
"""
