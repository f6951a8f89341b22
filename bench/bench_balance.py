"""How `lrs-ws serve --workers 2` shares keep-alive clients between its workers.

For 2, 4 and 8 clients (one keep-alive connection each, learnerByULN as fast as they can), every
round starts the clients at once, finds which worker process holds each client's connection
(/proc/net/tcp and each worker's open sockets), and counts the requests each worker served.
Prints each round's share of the busiest worker and, per client count, the range over rounds:

    python bench/bench_balance.py [--rounds 5] [--seconds 2] [--clients 2 4 8]

A share of 0.50 is even; 1.00 means one worker served everything.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_find import CREDENTIALS, envelope, free_port, start, stop  # noqa: E402


def _client(args: tuple[int, float, bytes, mp.synchronize.Barrier]) -> tuple[int, int]:
    port, seconds, body, barrier = args
    barrier.wait()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.connect()
    local_port = connection.sock.getsockname()[1]
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    served = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        connection.request("POST", "/LearnerService.svc", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        served += answer.status == 200
    connection.close()
    return local_port, served


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def _server_side_inodes(server_port: int) -> dict[int, str]:
    """client port -> inode of the server's end of that connection."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and fields[3] == "01":  # ESTABLISHED
            found[int(remote.split(":")[1], 16)] = inode
    return found


def _workers(server_pid: int) -> list[int]:
    listing = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [int(pid) for pid in listing]


def one_round(port: int, server_pid: int, clients: int, seconds: float, body: bytes) -> tuple[dict[int, int], dict[int, int]]:
    manager = mp.Manager()
    barrier = manager.Barrier(clients)
    with mp.Pool(clients) as pool:
        pending = pool.map_async(_client, [(port, seconds, body, barrier)] * clients)
        time.sleep(min(0.5, seconds / 2))
        owners = {}
        for worker in _workers(server_pid):
            inodes = _socket_inodes(worker)
            for client_port, inode in _server_side_inodes(port).items():
                if inode in inodes:
                    owners[client_port] = worker
        results = pending.get()
    served: dict[int, int] = {worker: 0 for worker in _workers(server_pid)}
    held = {worker: sum(1 for owner in owners.values() if owner == worker) for worker in served}
    for client_port, count in results:
        owner = owners.get(client_port)
        if owner is None:
            raise SystemExit(f"could not tell which worker served client port {client_port}")
        served[owner] = served.get(owner, 0) + count
    manager.shutdown()
    return served, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[2, 4, 8])
    args = parser.parse_args()
    body = envelope(
        f'<f:FindLearnerByULN xmlns:f="http://api.lrs.miap.gov.uk/findmsg"><FindType>FUL</FindType>{CREDENTIALS}'
        "<ULN>9105106906</ULN><FamilyName>Hughes</FamilyName><GivenName>Amelia</GivenName></f:FindLearnerByULN>"
    )
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        server = start(
            [sys.executable, "-m", "lrs_ws", "serve", "--port", str(port), "--workers", "2", "--no-worker",
             "--database-url", f"sqlite:///{directory}/balance.sqlite3"],
            port, "/LearnerService.svc",
        )
        try:
            time.sleep(1.0)  # the start-up probe's connection closed, every worker listening
            print("lrs-ws serve --workers 2; each client one keep-alive connection; share = the busiest worker's part of the requests")
            for clients in args.clients:
                shares = []
                for _ in range(args.rounds):
                    served, held = one_round(port, server.pid, clients, args.seconds, body)
                    total = sum(served.values()) or 1
                    shares.append(max(served.values()) / total)
                    print(
                        f"  {clients} clients: connections {' / '.join(str(n) for n in held.values())}, "
                        f"requests {' / '.join(str(n) for n in served.values())}, busiest {shares[-1]:.2f}"
                    )
                print(f"{clients} clients: busiest worker's share {min(shares):.2f}-{max(shares):.2f} over {args.rounds} rounds")
        finally:
            stop(server)


if __name__ == "__main__":
    main()
