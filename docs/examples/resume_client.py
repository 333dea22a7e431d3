"""A robust actorexec client: runs one command and survives lost connections.

Runs with Python 3.11 and the `websockets` library (Debian: python3-websockets).
docs/protocol.md section 13 shows this file; tests/integration/test_doc_client.py
runs it through a proxy that cuts the connection, and checks that the two agree.
"""

import asyncio
import base64
import json
import random

import websockets


class SessionGone(Exception):
    """The server no longer has the session (-32010): it expired or ended."""


async def run(url, params, lossless=True, ack_every=200, linger_s=60.0):
    """Runs `params` (an `execute` request's params) to the end; returns the
    output per stream, the `process.completed` params and the gaps seen."""
    state = {"sid": None, "token": None, "last_seq": 0, "acked": 0}
    out = {"stdout": bytearray(), "stderr": bytearray()}
    gaps = []

    def handle_event(method, p):           # any frame whose params carry "seq"
        if p["seq"] <= state["last_seq"]:
            return None                    # a duplicate after a resume
        if method == "stream.gap":
            # In place of dropped output (seq = last + 1), or after a resume
            # for every event missed (seq = the last missed one: it skips).
            gaps.append(p)
        elif p["seq"] != state["last_seq"] + 1:
            raise AssertionError(f"hole in seq: {p['seq']} after {state['last_seq']}")
        elif method == "process.output":
            data = p["data"]
            raw = base64.b64decode(data) if p.get("encoding") == "base64" else data.encode()
            out[p["type"]] += raw
        state["last_seq"] = p["seq"]
        return p if method == "process.completed" else None

    async def ack(ws):
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "ack",
                                  "params": {"seq": state["last_seq"]}}))
        state["acked"] = state["last_seq"]

    backoff, gave_up_at = 0.2, None
    while True:
        try:
            async with websockets.connect(url, max_size=None) as ws:
                hello = json.loads(await ws.recv())["params"]  # "connected"
                if state["sid"] is None:
                    state["sid"], state["token"] = hello["session_id"], hello["resume_token"]
                    if lossless:  # the one line that makes a resume lossless
                        await ack(ws)
                    await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1,
                                              "method": "execute", "params": params}))
                else:
                    await ws.send(json.dumps({
                        "jsonrpc": "2.0", "id": "r", "method": "resume",
                        "params": {"session_id": state["sid"], "resume_token": state["token"],
                                   "last_seq": state["last_seq"]}}))
                backoff, gave_up_at = 0.2, None
                async for text in ws:
                    m = json.loads(text)
                    if "error" in m and m.get("id") == "r":
                        raise SessionGone(m["error"]["message"])
                    if "error" in m:
                        raise RuntimeError(m["error"]["message"])
                    p = m.get("params")
                    if not isinstance(p, dict) or "seq" not in p:
                        continue                   # responses, ping, server.shutdown
                    done = handle_event(m["method"], p)
                    if lossless and (done or state["last_seq"] - state["acked"] >= ack_every):
                        await ack(ws)
                    if done:
                        return out, done, gaps     # leaving the block closes cleanly
        except (OSError, websockets.ConnectionClosedError, websockets.InvalidMessage):
            # A loss (no Close frame): the session waits --session-linger-ms for us.
            loop = asyncio.get_running_loop()
            gave_up_at = gave_up_at or loop.time() + linger_s
            if loop.time() > gave_up_at:
                raise SessionGone("could not reconnect within the linger time")
            await asyncio.sleep(backoff + random.random() * backoff)
            backoff = min(backoff * 2, 5.0)
