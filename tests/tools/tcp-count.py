#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A TCP relay that counts the bytes it carries, for `make bench`.

  tcp-count.py LISTEN_PORT TARGET_HOST TARGET_PORT COUNTS_FILE

Listens on 127.0.0.1:LISTEN_PORT and relays every connection to
TARGET_HOST:TARGET_PORT, byte for byte (TLS and StartTLS pass through
untouched). COUNTS_FILE holds two numbers, rewritten after every chunk:
the bytes the servers sent to clients so far (what the clients read), and
the bytes clients sent. The benchmark reads it before and after a window.
"""

import asyncio
import os
import sys

counts = [0, 0]  # server -> client, client -> server


def save(path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (counts[0], counts[1]))
    os.replace(tmp, path)


async def pipe(reader, writer, which, path):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            counts[which] += len(data)
            save(path)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    port, host, tport, path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    save(path)

    async def handle(creader, cwriter):
        try:
            sreader, swriter = await asyncio.open_connection(host, tport)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(pipe(sreader, cwriter, 0, path), pipe(creader, swriter, 1, path))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
