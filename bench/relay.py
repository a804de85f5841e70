"""A TCP relay on 127.0.0.1 that behaves like a slow link: one-way latency and a bandwidth cap.

    .venv/bin/python -m bench.relay --upstream 8000 [--latency-ms 300] [--rate-mbps 2]

Each direction of each connection is a link of its own: a chunk read from
one side leaves after the ones before it have been sent at `rate` bytes/s,
and arrives `latency` later. The queue between reading and writing is
bounded, so TCP's own flow control pushes back as on a real link. Prints
"listening on PORT" once it accepts connections; it stops when killed, or
after --max-seconds. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import time

CHUNK = 16 * 1024
QUEUE_CHUNKS = 256


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float, rate: float
) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUE_CHUNKS)

    async def take() -> None:
        free_at = 0.0
        while data := await reader.read(CHUNK):
            now = time.monotonic()
            free_at = max(now, free_at) + len(data) / rate  # the link is busy until then
            await queue.put((free_at + latency, data))
        await queue.put((0.0, b""))

    async def give() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    try:
        await asyncio.gather(take(), give())
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(upstream: int, latency: float, rate: float, port: int = 0) -> asyncio.Server:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            _pipe(client_r, server_w, latency, rate), _pipe(server_r, client_w, latency, rate)
        )

    return await asyncio.start_server(handle, "127.0.0.1", port)


async def _main(args: argparse.Namespace) -> None:
    server = await serve(args.upstream, args.latency_ms / 1000, args.rate_mbps * 1e6, args.port)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await asyncio.sleep(args.max_seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--rate-mbps", type=float, default=2.0, help="megabytes per second")
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
