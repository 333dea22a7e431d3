#!/usr/bin/python3
"""MCP against the seed protocol, on one server: the round trip of a short
command and the throughput of reading a large output.

  loadtest/bench_mcp.py --bin build/app/actorexec [--runs 3] [--echos 300]
                        [--mb 20]

Starts the server on a free loopback port, then for each run:
- echo: `echo hi` N times, one after another, from request to result:
  MCP `run_command` over HTTP (one kept-alive connection, JSON answers),
  and `execute` over /ws/mcp up to `process.completed`;
- paging: a child writes MB megabytes of lines; MCP reads them with
  `read_output` pages of 1 MiB, the seed client takes its
  `process.output` frames (chunks framing, acks as it goes); MB/s of
  child output received.
Prints the medians over the runs as a table. Every loop is bounded in count
and time. The client is Python (Debian's python3 with python3-websockets):
both sides pay its cost, so the columns compare, but the absolute rates are
the client's as much as the server's.
"""

import argparse
import asyncio
import http.client
import json
import os
import statistics
import subprocess
import sys
import time

import websockets


def start_server(binary):
    proc = subprocess.Popen([binary, "--port", "0", "--log-level", "warn"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        event = json.loads(line)
        if event.get("event") == "listening":
            return proc, event["port"]
    proc.kill()
    sys.exit("the server did not start")


class Mcp:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/json",
                        "Accept": "application/json, text/event-stream"}
        self.next_id = 1
        body = self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                          "params": {"protocolVersion": "2025-06-18",
                                     "capabilities": {},
                                     "clientInfo": {"name": "bench",
                                                    "version": "1"}}})
        assert body["result"]["protocolVersion"]

    def post(self, msg):
        self.conn.request("POST", "/mcp", body=json.dumps(msg),
                          headers=self.headers)
        res = self.conn.getresponse()
        sid = res.getheader("Mcp-Session-Id")
        if sid:
            self.headers["Mcp-Session-Id"] = sid
        raw = res.read()
        return json.loads(raw) if raw else None

    def tool(self, name, **args):
        self.next_id += 1
        body = self.post({"jsonrpc": "2.0", "id": self.next_id,
                          "method": "tools/call",
                          "params": {"name": name, "arguments": args}})
        return body["result"]["structuredContent"]


def mcp_echo(port, n):
    c = Mcp(port)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = c.tool("run_command", command="echo hi")
        times.append(time.perf_counter() - t0)
        assert r["stdout"] == "hi\n", r
    return times


def mcp_paging(port, mb):
    c = Mcp(port)
    total = mb * 1000 * 1000
    t0 = time.perf_counter()
    r = c.tool("run_command", command=f"head -c {total} /dev/zero | tr '\\0' x",
               wait_s=0, max_output_bytes=1 << 20)
    got = len(r["stdout"])
    cursor = r["cursor"]
    for _ in range(100000):
        p = c.tool("read_output", process_id=r["process_id"], cursor=cursor,
                   max_bytes=1 << 20, wait_s=10)
        got += len(p["stdout"])
        cursor = p["cursor"]
        if p["eof"]:
            break
    elapsed = time.perf_counter() - t0
    assert got == total, (got, total)
    return total / elapsed / 1e6


async def seed_echo(port, n):
    times = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/mcp",
                                  max_size=None) as ws:
        json.loads(await ws.recv())  # connected
        for i in range(n):
            t0 = time.perf_counter()
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": i,
                                      "method": "execute",
                                      "params": {"command": "echo hi"}}))
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if m.get("method") == "process.completed":
                    break
            times.append(time.perf_counter() - t0)
    return times


async def seed_paging(port, mb):
    total = mb * 1000 * 1000
    got = 0
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/mcp",
                                  max_size=None) as ws:
        json.loads(await ws.recv())
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "ack",
                                  "params": {"seq": 0}}))
        t0 = time.perf_counter()
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1,
                                  "method": "execute",
                                  "params": {"command": f"head -c {total} "
                                             "/dev/zero | tr '\\0' x",
                                             "framing": "chunks"}}))
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), 60))
            p = m.get("params", {})
            if m.get("method") == "process.output":
                got += len(p["data"])
            if "seq" in p and p["seq"] % 8 == 0:
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "ack",
                                          "params": {"seq": p["seq"]}}))
            if m.get("method") == "process.completed":
                break
        elapsed = time.perf_counter() - t0
    assert got == total, (got, total)
    return total / elapsed / 1e6


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--echos", type=int, default=300)
    ap.add_argument("--mb", type=int, default=20)
    a = ap.parse_args()
    proc, port = start_server(a.bin)
    rows = {"mcp_p50": [], "mcp_p99": [], "seed_p50": [], "seed_p99": [],
            "mcp_mbs": [], "seed_mbs": []}
    try:
        for _ in range(a.runs):
            t = mcp_echo(port, a.echos)
            rows["mcp_p50"].append(pct(t, 0.5))
            rows["mcp_p99"].append(pct(t, 0.99))
            t = asyncio.run(seed_echo(port, a.echos))
            rows["seed_p50"].append(pct(t, 0.5))
            rows["seed_p99"].append(pct(t, 0.99))
            rows["mcp_mbs"].append(mcp_paging(port, a.mb))
            rows["seed_mbs"].append(asyncio.run(seed_paging(port, a.mb)))
    finally:
        proc.terminate()
        proc.wait(20)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"| | MCP over HTTP (`run_command`, `read_output`) | "
          f"/ws/mcp (`execute`) |")
    print("| --- | --- | --- |")
    print(f"| `echo hi` round trip p50 / p99 (ms) | {med['mcp_p50']:.2f} / "
          f"{med['mcp_p99']:.2f} | {med['seed_p50']:.2f} / "
          f"{med['seed_p99']:.2f} |")
    print(f"| reading {a.mb} MB of output (MB/s) | {med['mcp_mbs']:.1f} | "
          f"{med['seed_mbs']:.1f} |")
    print(f"(medians of {a.runs} runs, {a.echos} echos each)")


if __name__ == "__main__":
    main()
