#!/usr/bin/env python3
"""Holds a TCP port where connecting hangs: a listener whose accept queue is full.

    blackhole.py PORT [SECONDS]

Listens on 127.0.0.1:PORT with a backlog of 0, fills that backlog with one
connection of its own, and never accepts. Linux then drops further SYNs, so a
connect() to the port neither succeeds nor fails until the client gives up: the
loopback stand-in for an origin behind a firewall that drops packets. Prints
"ready" once the port hangs, and exits after SECONDS (default 30) or on SIGTERM.
"""
import signal
import socket
import sys
import time


def main():
    port = int(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(0)
    filler = socket.create_connection(("127.0.0.1", port))  # takes the one place in the queue
    # prove it: another connect must now hang
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(0.3)
    try:
        probe.connect(("127.0.0.1", port))
        print("the port did not hang: a second connection was accepted by the kernel", file=sys.stderr)
        return 1
    except socket.timeout:
        pass
    finally:
        probe.close()
    print("ready", flush=True)
    time.sleep(seconds)
    filler.close()
    listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
