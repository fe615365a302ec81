"""A TCP port for a server a test starts in another process (``medremind web``, a worker's
metrics, Next.js), that nothing else is handed in the meantime.

Binding port 0, reading the port and closing the socket left a gap until the test's server bound
it: any other process asking the kernel for a free port (another test's ``free_port``, pytest-xdist
workers, other test sessions on the machine, an outgoing connection) could be handed the same
port. The test's server then failed to bind, while the other process answered the test's
requests: under load a web test got 202 from another test's ``medremind web`` and found nothing
in its own database (tests/web/test_slow_clients.py). Two ports asked for in a row could even be
the same one.

So the port is left in TIME_WAIT (the way Yelp's ``ephemeral-port-reserve`` does it): a
connection to it is made and closed from the server's side first. For about a minute the kernel
hands the port to no ``bind(0)`` and no outgoing connection, while a server that sets
``SO_REUSEADDR`` binds it at once: uvicorn, ``medremind web``'s supervisor, prometheus_client,
asyncio's and Node's servers all do.
"""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that the kernel gives nobody else for about a minute (see above)."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, 0))
        listener.listen(1)
        port = int(listener.getsockname()[1])
        with socket.create_connection((host, port)) as client:
            accepted, _ = listener.accept()
            accepted.close()  # the server's side closes first: it is the one in TIME_WAIT
            client.recv(1)  # until the close has reached the client
    return port
