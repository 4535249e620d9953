"""Small helpers shared by the test modules (tests/ is not a package; pytest puts this folder on sys.path)."""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(demo) -> str:
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return f"http://127.0.0.1:{port}/"


def text_of(message: dict) -> str:
    """A chat message's content as one string (gradio_client gives a list of typed parts)."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def visible(fragment: str) -> str:
    """What a reader sees of an HTML fragment: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(fragment: str) -> list[tuple[str, dict]]:
    parser = TagCollector()
    parser.feed(fragment)
    return parser.tags


CHROMA_CLI = Path(sys.executable).with_name("chroma")


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """A real `chroma run` on loopback, returned once it accepts connections."""
    process = subprocess.Popen([str(CHROMA_CLI), "run", "--path", str(path), "--host", "127.0.0.1", "--port",
                                str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("chroma run did not start")


@contextmanager
def llama_server():
    """llama.cpp's OpenAI-compatible server with the packaged SmolLM2: yields (process, base URL ending in /v1).
    Skipped where llama-cpp-python or the model is missing, except in CI, which installs both."""
    from rag.llm_server import server_command

    try:
        port = free_port()
        command = server_command(port)
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                httpx.get(f"{url}/v1/models", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "llama.cpp server exited"
                time.sleep(0.5)
        else:
            pytest.fail("llama.cpp server did not start")
        yield process, f"{url}/v1"
    finally:
        process.kill()
        process.wait()


@contextmanager
def stub_llm_server():
    """An OpenAI-compatible chat endpoint on loopback for fault tests. Yields its state: set `reply` (streamed
    back in small chunks) or `mode` (ok | http500 | http429 | echo-key: a 401 that repeats the key | slow: 3 s
    | garbage: a broken stream); every request lands in `requests` as {"body", "auth"}."""
    state = {"reply": "", "mode": "ok", "requests": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            auth = self.headers.get("Authorization")
            state["requests"].append({"body": body, "auth": auth})
            errors = {"http500": (500, "boom"), "http429": (429, "slow down"), "echo-key": (401, f"bad key {auth}")}
            if state["mode"] in errors:
                code, message = errors[state["mode"]]
                payload = json.dumps({"error": {"message": message, "type": "error"}}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if state["mode"] == "slow":
                time.sleep(3)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            if state["mode"] == "garbage":
                self.wfile.write(b"data: {this is not json\n\n")
                return
            reply = state["reply"]
            for start in range(0, len(reply), 7):
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "stub",
                         "choices": [{"index": 0, "delta": {"content": reply[start:start + 7]}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a client that gave up (the timeout tests) is expected

    server = QuietServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()

