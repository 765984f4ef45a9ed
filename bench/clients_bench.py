#!/usr/bin/python3
"""Slow and idle clients: what each connection costs, and whether a normal
scrape still gets through, pg_prom against postgres_exporter.

The cluster of scrape_bench.py (PostgreSQL 15, 1000 tables, Debian's
postgres_exporter 0.11.1 on the same cluster; no idle sessions).  For each
target and each kind of client, N connections from 127.0.0.1 are opened and
held:

  half-sent  a request line and one header, never finished (a slowloris)
  idle       a complete request, its response read, then nothing (an idle
             keep-alive connection)

Reported: how many connections the server took in (its descriptors), the
memory of the serving process per connection (the growth of
its private memory, /proc/<pid>/smaps_rollup Private_Clean + Private_Dirty,
divided by the descriptors it gained: the kernel's socket buffers are not
counted), how many of the N connections the server still held a second
later, and the latency of
normal scrapes (new connections) made while they are held.

pg_prom is measured with room for all of them (pg_prom.max_clients and
max_clients_per_address 10000, and max_files_per_process raised: the
endpoint's sockets count in the server's descriptor budget, a third of
max_files_per_process) and with its defaults (max_clients 1000, 100 per
address: connections waiting longest for a request make room).

Run as root (it starts the server as the postgres OS user):
    /usr/bin/python3 bench/clients_bench.py [--connections 5000]
Everything listens on 127.0.0.1 and is stopped at the end.
"""
import argparse
import os
import resource
import socket
import sys
import time

from benchlib import Bench, PE_SET, pct, scrape


def private_bytes(pid):
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1]) * 1024
    return total


def open_clients(port, n, kind):
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if kind == "half-sent":
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\n")
        else:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n")
            s.recv(65536)
        s.setblocking(False)
        socks.append(s)
        if i % 500 == 499:
            time.sleep(0.05)  # let the server keep up with accepting
    return socks


def still_open(socks):
    """How many of the connections the server has not closed."""
    n = 0
    for s in socks:
        try:
            data = s.recv(65536)
            if data:
                n += 1  # an answer (e.g. 503 or 408) counts as open until closed
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def settle(pid, limit_s):
    """Wait until pid's descriptor count stops changing (or limit_s)."""
    t0, last, still = time.time(), -1, 0
    while time.time() - t0 < limit_s and still < 3:
        time.sleep(0.2)
        now = fds(pid)
        still = still + 1 if now == last else 0
        last = now


def measure(port, pid, n, kind, scrapes=20):
    settle(pid, 15)  # the previous row's connections are gone
    before = private_bytes(pid)
    fds_before = fds(pid)
    t0 = time.time()
    socks = open_clients(port, n, kind)
    opened = time.time() - t0
    time.sleep(1.0)  # the server takes them in as fast as they come
    accepted_s = time.time() - t0
    after = private_bytes(pid)
    held_then = fds(pid) - fds_before
    lat = []
    errors = 0
    for _ in range(scrapes):
        try:
            lat.append(scrape(port, timeout=30)[0])
        except Exception:
            errors += 1
    held = still_open(socks)
    for s in socks:
        s.close()
    return {
        "per_conn": (after - before) / max(held_then, 1),
        "held": held,
        "opened_s": opened,
        "accepted_s": accepted_s,
        "held_then": held_then,
        "p50": 1000 * pct(lat, 50) if lat else float("nan"),
        "max": 1000 * max(lat) if lat else float("nan"),
        "errors": errors,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--tables", type=int, default=1000)
    args = ap.parse_args()
    limit = args.connections * 3 + 4000
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    # the endpoint's sockets count in the server's descriptor budget: a
    # third of max_files_per_process (about 330 with the default 1000)
    bench = Bench(tables=args.tables, idle=0, nofile=limit,
                  conf=f"pg_prom.collectors = '{PE_SET}'\n"
                       f"max_files_per_process = {3 * args.connections + 3000}\n")
    try:
        bench.start()
        endpoint = bench.endpoint_pid()
        rows = []
        # once first: the endpoint's arrays grow to their size for good
        bench.configure(max_clients=10000, max_clients_per_address=10000)
        rows.append(("pg_prom, max_clients 10000, first time (memory the process keeps)", "idle",
                     measure(bench.promport, endpoint, args.connections, "idle")))
        for kind in ("half-sent", "idle"):
            bench.configure(max_clients=10000, max_clients_per_address=10000)
            print(f"clients: pg_prom, room for all, {kind} ...", file=sys.stderr)
            rows.append((f"pg_prom, max_clients 10000", kind,
                         measure(bench.promport, endpoint, args.connections, kind)))
            bench.configure(max_clients=1000, max_clients_per_address=100)
            print(f"clients: pg_prom, defaults, {kind} ...", file=sys.stderr)
            rows.append((f"pg_prom, defaults (1000, 100 per address)", kind,
                         measure(bench.promport, endpoint, args.connections, kind)))
            print(f"clients: postgres_exporter, {kind} ...", file=sys.stderr)
            rows.append(("postgres_exporter 0.11.1", kind,
                         measure(bench.peport, bench.pe_pid, args.connections, kind)))

        print(f"Setup: PostgreSQL 15, {args.tables} tables; {args.connections} connections from 127.0.0.1 "
              f"per row, held while 20 normal scrapes are made.\n")
        print("| server | clients | taken in (seconds to take them) | memory per connection "
              "| still open after the scrapes | scrape p50 (max) while held | failed scrapes |")
        print("|---|---|---|---|---|---|---|")
        for name, kind, r in rows:
            print(f"| {name} | {args.connections} {kind} | {r['held_then']} ({r['accepted_s']:.1f} s) "
                  f"| {r['per_conn'] / 1024:.2f} KiB "
                  f"| {r['held']} | {r['p50']:.1f} ms ({r['max']:.1f} ms) | {r['errors']} |")
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
