#!/usr/bin/env python3
"""A scriptable mock of two LLM HTTP APIs, for bentos-driver-host's tests.

Speaks each provider's real wire format over HTTP/1.1 (keep-alive, chunked
streaming, every SSE event written and flushed as its own chunk):

  POST /v1/messages          Anthropic Messages API, streaming
                             (event:/data: SSE: message_start,
                             content_block_start/delta/stop, message_delta,
                             message_stop, ping, error)
  POST /v1/chat/completions  OpenAI Chat Completions, streaming (data:
                             chat.completion.chunk objects, a usage chunk
                             when stream_options.include_usage, data: [DONE])

Standard library only. Start with

  mock_llm.py [--host 127.0.0.1] [--port 0] [--verbose]

and the first line on stdout is "listening 127.0.0.1:PORT".

Control API (same port; JSON in and out)
----------------------------------------
  POST /_mock/script    body: a list of response specs (or one spec), appended
                        to the queue. Each API request takes the queue's first
                        spec; a spec with "times": N serves N requests.
  GET  /_mock/requests  every API request received so far, in arrival order:
                        {"seq", "method", "path", "headers" (names lower-cased),
                         "body" (parsed JSON, or null), "raw_body" (text, only
                         when not JSON), "received_ns", "status" (sent, or
                         null), "completed" (the whole response was written),
                         "closed_early" (the client closed before the end),
                         "closed_ns" (when that was seen, or null)}.
                        All *_ns are time.monotonic_ns(), i.e. CLOCK_MONOTONIC,
                        the clock of C++'s std::chrono::steady_clock on Linux.
  POST /_mock/reset     empties the queue, the request log and the config.
  POST /_mock/config    {"api_key": "k"}: from now on a request without that
                        key (x-api-key for Anthropic, Authorization: Bearer for
                        OpenAI) gets the provider's real 401. null disables.

A closed client is seen at once while the mock waits (pace, stall, delay: it
watches the socket for EOF) and otherwise by the failed write.

Response spec
-------------
  {
    "status": 200,            # HTTP status; not 200 -> an error response
    "headers": {"Retry-After": "3"},   # extra response headers
    "error": {"type": "...", "message": "...", "code": "..."},
                              # error body fields (defaults per status, in the
                              # provider's real shape); also used by the
                              # "error" piece
    "body": "...",            # an error response's body verbatim (e.g. the
                              # HTML a proxy sends with a 502)
    "delay_ms": 0,            # wait before sending the status line
    "pace_ms": 0,             # wait before each piece
    "model": "mock-model",
    "stop_reason": "end_turn",  # end_turn|max_tokens|stop_sequence|tool_use|
                              # content_filter (OpenAI: stop|length|stop|
                              # tool_calls|content_filter)
    "usage": {"input_tokens": 10, "output_tokens": 20,
              "cache_read_tokens": 0, "cache_write_tokens": 0,
              "reasoning_tokens": 0},
    "stamp": false,           # true: "{t}" in text/thinking pieces becomes
                              # time.monotonic_ns() at the moment of sending
    "times": 1,               # how many requests this spec answers
    "pieces": [ ... ]         # the stream, in order (200 only)
  }

Pieces (one SSE event each unless said otherwise):
  {"text": "Hel"}                    text delta
  {"thinking": "hmm"}                thinking delta (OpenAI: reasoning_content);
                                     "signature": "sig" adds Anthropic's
                                     signature_delta to the block
  {"redacted_thinking": "data"}      Anthropic redacted_thinking block
  {"tool_call": {"id": "t1", "name": "f", "arguments": "{\\"a\\":"}}
                                     a tool call piece; the same id continues
                                     the call (then "name" may be left out)
  {"ping": true}                     Anthropic ping event (OpenAI: an SSE
                                     comment line)
  {"error": {"type": "overloaded_error", "message": "..."}}
                                     an error event inside the 200 stream,
                                     then the stream ends (no stop events)
  {"raw": "data: {}\\n\\n"}          bytes written verbatim as one chunk
  {"stall_ms": 500}                  wait 500 ms (sending nothing)
  {"stall": true}                    wait until the client closes
  {"drop": true}                     close the TCP connection at once (no
                                     chunked terminator: a truncated stream)

Consecutive pieces of one kind share an Anthropic content block; a change of
kind (or of tool call id) starts the next block. The stream's framing
(message_start, the first role chunk, the final stop/usage events, [DONE]) is
added around the pieces.

With nothing scripted, a request is answered by echoing the last user
message's text, streamed word by word, so a manual session works.
"""

import argparse
import collections
import http.server
import json
import select
import socket
import socketserver
import sys
import threading
import time

ANTHROPIC_ERRORS = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    422: ("invalid_request_error", "Unprocessable request"),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    502: ("api_error", "Bad gateway"),
    503: ("api_error", "Service unavailable"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}

# (type, code, message)
OPENAI_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request"),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    402: ("insufficient_quota", "insufficient_quota", "You exceeded your current quota, please check your plan and billing details."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported"),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    413: ("invalid_request_error", "request_too_large", "Request too large"),
    422: ("invalid_request_error", None, "Unprocessable entity"),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests"),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later"),
    504: ("server_error", None, "Gateway timeout"),
    529: ("server_error", None, "Overloaded"),
}

REASONS = {  # "Reason-Phrase"s the standard library does not know
    529: "Site Overloaded",
}

OPENAI_FINISH = {
    "end_turn": "stop", "max_tokens": "length", "stop_sequence": "stop",
    "tool_use": "tool_calls", "content_filter": "content_filter",
}


class ClientClosed(Exception):
    """The client closed the connection while a response was being sent."""


class State:
    """Everything shared between the handler threads; guarded by `lock`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.queue = collections.deque()
        self.requests = []
        self.api_key = None
        self.next_id = 1

    def take_spec(self):
        """The spec for the next API request, or None (then: echo)."""
        if not self.queue:
            return None
        spec = self.queue[0]
        left = spec.get("times", 1) - 1
        if left <= 0:
            self.queue.popleft()
        else:
            spec["times"] = left
        return spec


STATE = State()


def now_ns():
    return time.monotonic_ns()


def last_user_text(body):
    """The text of the last user message of either API's request body."""
    for message in reversed(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(p.get("text", "") for p in content
                           if isinstance(p, dict) and p.get("type") == "text")
    return ""


def echo_spec(body):
    text = last_user_text(body)
    words = text.split(" ")
    pieces = [{"text": w if i == 0 else " " + w} for i, w in enumerate(words) if w or i == 0]
    return {"pieces": pieces, "usage": {"input_tokens": max(1, len(words)), "output_tokens": len(pieces)}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-llm/1"
    # TCP_NODELAY, as real API servers stream: with Nagle, an event written
    # while the previous one is unacknowledged waits for the client's
    # delayed ACK (milliseconds), and chunk latencies would measure that.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write("mock_llm: " + (format % args) + "\n")

    # ---- plumbing -------------------------------------------------------

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status, value, extra_headers=None):
        data = json.dumps(value).encode()
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, val in (extra_headers or {}).items():
            self.send_header(name, str(val))
        self.end_headers()
        self.wfile.write(data)

    def client_gone(self, timeout_s):
        """Waits up to timeout_s (None: forever) for the client to close the
        connection; True once it did. Bytes the client sends meanwhile are
        left unread (a client does not pipeline behind a stream)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([self.connection], [], [], left)
            if readable:
                try:
                    peek = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    return True
                if not peek:
                    return True
                if deadline is None:  # unexpected bytes: do not spin on them
                    time.sleep(0.01)
                    continue
                time.sleep(min(0.01, left))
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def wait(self, ms):
        if ms and self.client_gone(ms / 1000.0):
            raise ClientClosed()

    def write_chunk(self, data):
        if not data:
            return
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        except OSError as exc:
            raise ClientClosed() from exc

    def write_end(self):
        try:
            self.wfile.write(b"0\r\n\r\n")
        except OSError as exc:
            raise ClientClosed() from exc

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- dispatch -------------------------------------------------------

    def do_GET(self):
        if self.path == "/_mock/requests":
            with STATE.lock:
                snapshot = json.loads(json.dumps(STATE.requests))
            self.send_json(200, snapshot)
        else:
            self.send_json(404, {"error": "no such path"})

    def do_POST(self):
        raw = self.read_body()
        if self.path.startswith("/_mock/"):
            self.control(raw)
        elif self.path in ("/v1/messages", "/v1/chat/completions"):
            self.api(raw)
        else:
            self.send_json(404, {"error": {"type": "not_found_error", "message": "no such path"}})

    def control(self, raw):
        try:
            value = json.loads(raw) if raw else None
        except ValueError:
            self.send_json(400, {"error": "control body is not JSON"})
            return
        if self.path == "/_mock/script":
            specs = value if isinstance(value, list) else [value]
            with STATE.lock:
                STATE.queue.extend(specs)
                queued = len(STATE.queue)
            self.send_json(200, {"queued": queued})
        elif self.path == "/_mock/reset":
            with STATE.lock:
                STATE.reset()
            self.send_json(200, {})
        elif self.path == "/_mock/config":
            with STATE.lock:
                if isinstance(value, dict) and "api_key" in value:
                    STATE.api_key = value["api_key"]
            self.send_json(200, {})
        else:
            self.send_json(404, {"error": "no such control path"})

    def api(self, raw):
        anthropic = self.path == "/v1/messages"
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        record = {
            "seq": 0, "method": self.command, "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body, "received_ns": now_ns(), "status": None,
            "completed": False, "closed_early": False, "closed_ns": None,
        }
        if body is None:
            record["raw_body"] = raw.decode("utf-8", "replace")
        with STATE.lock:
            record["seq"] = len(STATE.requests)
            STATE.requests.append(record)
            api_key = STATE.api_key
            spec = None
            if body is not None and self.authorized(anthropic, api_key) and self.versioned(anthropic):
                spec = STATE.take_spec() or echo_spec(body)
            msg_id = STATE.next_id
            STATE.next_id += 1

        if body is None:
            spec = {"status": 400, "error": {"message": "request body is not valid JSON"}}
        elif not self.authorized(anthropic, api_key):
            spec = {"status": 401}
        elif not self.versioned(anthropic):
            spec = {"status": 400, "error": {"message": "anthropic-version: header is required"}}

        try:
            self.respond(anthropic, spec, body or {}, msg_id, record)
            with STATE.lock:
                record["completed"] = True
        except ClientClosed:
            with STATE.lock:
                record["closed_early"] = True
                record["closed_ns"] = now_ns()
            self.close_connection = True

    def authorized(self, anthropic, api_key):
        if api_key is None:
            return True
        if anthropic:
            return self.headers.get("x-api-key") == api_key
        return self.headers.get("Authorization") == "Bearer " + api_key

    def versioned(self, anthropic):
        return not anthropic or bool(self.headers.get("anthropic-version"))

    # ---- responses ------------------------------------------------------

    def respond(self, anthropic, spec, body, msg_id, record):
        self.wait(spec.get("delay_ms", 0))
        status = spec.get("status", 200)
        with STATE.lock:
            record["status"] = status
        if status != 200:
            self.respond_error(anthropic, spec, status)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, val in (spec.get("headers") or {}).items():
            self.send_header(name, str(val))
        self.end_headers()
        stream = AnthropicStream(spec, body, msg_id) if anthropic else OpenAIStream(spec, body, msg_id)
        pace = spec.get("pace_ms", 0)
        self.write_chunk(stream.opening())
        for piece in spec.get("pieces") or []:
            self.wait(pace)
            if "stall_ms" in piece:
                self.wait(piece["stall_ms"])
            elif piece.get("stall"):
                self.client_gone(None)
                raise ClientClosed()
            elif piece.get("drop"):
                self.drop()
                return
            elif "raw" in piece:
                self.write_chunk(piece["raw"].encode())
            elif "error" in piece:
                self.write_chunk(stream.error_event(piece["error"]))
                self.write_end()
                return
            else:
                self.write_chunk(stream.piece(piece, spec.get("stamp", False)))
        self.write_chunk(stream.closing())
        self.write_end()

    def respond_error(self, anthropic, spec, status):
        headers = {"Content-Type": "application/json"}
        if "body" in spec:
            data = spec["body"].encode()
            headers["Content-Type"] = "text/html" if not spec["body"].lstrip().startswith("{") else "application/json"
        else:
            given = spec.get("error") or {}
            if anthropic:
                etype, message = ANTHROPIC_ERRORS.get(status, ("api_error", "Error"))
                error = {"type": given.get("type", etype), "message": given.get("message", message)}
                value = {"type": "error", "error": error}
            else:
                etype, code, message = OPENAI_ERRORS.get(status, ("server_error", None, "Error"))
                value = {"error": {"message": given.get("message", message), "type": given.get("type", etype),
                                   "param": given.get("param"), "code": given.get("code", code)}}
            data = json.dumps(value).encode()
        if anthropic:
            headers["request-id"] = "req_mock"
        headers.update(spec.get("headers") or {})
        self.send_response(status, REASONS.get(status))
        for name, val in headers.items():
            self.send_header(name, str(val))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError as exc:
            raise ClientClosed() from exc


def stamped(text, stamp):
    return text.replace("{t}", str(now_ns())) if stamp else text


def usage_of(spec):
    usage = {"input_tokens": 10, "output_tokens": 0, "cache_read_tokens": 0,
             "cache_write_tokens": 0, "reasoning_tokens": 0}
    usage["output_tokens"] = len(spec.get("pieces") or [])
    usage.update(spec.get("usage") or {})
    return usage


class AnthropicStream:
    """Renders pieces as Messages API events; tracks the open content block."""

    def __init__(self, spec, body, msg_id):
        self.spec = spec
        self.model = spec.get("model", body.get("model") or "mock-model")
        self.msg_id = "msg_mock_%d" % msg_id
        self.usage = usage_of(spec)
        self.index = -1
        self.open_kind = None  # ("text",) / ("thinking",) / ("tool", id)
        self.signature = None

    @staticmethod
    def event(name, value):
        return ("event: %s\ndata: %s\n\n" % (name, json.dumps(value))).encode()

    def opening(self):
        return self.event("message_start", {"type": "message_start", "message": {
            "id": self.msg_id, "type": "message", "role": "assistant", "model": self.model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": self.usage["input_tokens"],
                      "cache_creation_input_tokens": self.usage["cache_write_tokens"],
                      "cache_read_input_tokens": self.usage["cache_read_tokens"],
                      "output_tokens": 1}}})

    def close_block(self):
        if self.open_kind is None:
            return b""
        out = b""
        if self.open_kind[0] == "thinking" and self.signature is not None:
            out += self.event("content_block_delta", {"type": "content_block_delta", "index": self.index,
                                                      "delta": {"type": "signature_delta", "signature": self.signature}})
        self.open_kind = None
        self.signature = None
        return out + self.event("content_block_stop", {"type": "content_block_stop", "index": self.index})

    def open_block(self, kind, block):
        out = self.close_block()
        self.index += 1
        self.open_kind = kind
        return out + self.event("content_block_start", {"type": "content_block_start", "index": self.index,
                                                        "content_block": block})

    def delta(self, delta):
        return self.event("content_block_delta", {"type": "content_block_delta", "index": self.index, "delta": delta})

    def piece(self, piece, stamp):
        out = b""
        if "text" in piece:
            if self.open_kind != ("text",):
                out += self.open_block(("text",), {"type": "text", "text": ""})
            return out + self.delta({"type": "text_delta", "text": stamped(piece["text"], stamp)})
        if "thinking" in piece:
            if self.open_kind != ("thinking",):
                out += self.open_block(("thinking",), {"type": "thinking", "thinking": ""})
            if "signature" in piece:
                self.signature = piece["signature"]
            return out + self.delta({"type": "thinking_delta", "thinking": stamped(piece["thinking"], stamp)})
        if "redacted_thinking" in piece:
            out += self.open_block(("redacted",), {"type": "redacted_thinking", "data": piece["redacted_thinking"]})
            return out + self.close_block()
        if "tool_call" in piece:
            call = piece["tool_call"]
            if self.open_kind != ("tool", call.get("id")):
                out += self.open_block(("tool", call.get("id")), {"type": "tool_use", "id": call.get("id"),
                                                                 "name": call.get("name", ""), "input": {}})
            if call.get("arguments"):
                out += self.delta({"type": "input_json_delta", "partial_json": call["arguments"]})
            return out
        if piece.get("ping"):
            return self.event("ping", {"type": "ping"})
        return b""

    def error_event(self, error):
        etype, message = ANTHROPIC_ERRORS.get(529)
        return self.event("error", {"type": "error", "error": {"type": error.get("type", etype),
                                                               "message": error.get("message", message)}})

    def closing(self):
        return self.close_block() + self.event("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": self.spec.get("stop_reason", "end_turn"), "stop_sequence": None},
            "usage": {"output_tokens": self.usage["output_tokens"]}}) + \
            self.event("message_stop", {"type": "message_stop"})


class OpenAIStream:
    """Renders pieces as chat.completion.chunk objects."""

    def __init__(self, spec, body, msg_id):
        self.spec = spec
        self.model = spec.get("model", body.get("model") or "mock-model")
        self.id = "chatcmpl-mock-%d" % msg_id
        self.created = int(time.time())
        self.usage = usage_of(spec)
        self.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.tool_index = {}  # call id -> index in delta.tool_calls

    def chunk(self, delta, finish=None, choices=True):
        value = {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                 "model": self.model, "system_fingerprint": None,
                 "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if self.include_usage:
            value["usage"] = None
        if not choices:
            value["choices"] = []
        return value

    @staticmethod
    def data(value):
        return ("data: %s\n\n" % json.dumps(value)).encode()

    def opening(self):
        return self.data(self.chunk({"role": "assistant", "content": ""}))

    def piece(self, piece, stamp):
        if "text" in piece:
            return self.data(self.chunk({"content": stamped(piece["text"], stamp)}))
        if "thinking" in piece:
            return self.data(self.chunk({"reasoning_content": stamped(piece["thinking"], stamp)}))
        if "tool_call" in piece:
            call = piece["tool_call"]
            out = b""
            if call.get("id") not in self.tool_index:
                index = len(self.tool_index)
                self.tool_index[call.get("id")] = index
                out += self.data(self.chunk({"tool_calls": [{"index": index, "id": call.get("id"), "type": "function",
                                                             "function": {"name": call.get("name", ""),
                                                                          "arguments": ""}}]}))
            if call.get("arguments"):
                out += self.data(self.chunk({"tool_calls": [{"index": self.tool_index[call.get("id")],
                                                             "function": {"arguments": call["arguments"]}}]}))
            return out
        if piece.get("ping"):
            return b": ping\n\n"
        return b""  # redacted thinking has no OpenAI form

    def error_event(self, error):
        etype, code, message = OPENAI_ERRORS.get(500)
        return self.data({"error": {"message": error.get("message", message), "type": error.get("type", etype),
                                    "param": None, "code": error.get("code", code)}})

    def closing(self):
        out = self.data(self.chunk({}, OPENAI_FINISH.get(self.spec.get("stop_reason", "end_turn"), "stop")))
        if self.include_usage:
            u = self.usage
            usage = {"prompt_tokens": u["input_tokens"], "completion_tokens": u["output_tokens"],
                     "total_tokens": u["input_tokens"] + u["output_tokens"],
                     "prompt_tokens_details": {"cached_tokens": u["cache_read_tokens"]},
                     "completion_tokens_details": {"reasoning_tokens": u["reasoning_tokens"]}}
            value = self.chunk({}, choices=False)
            value["usage"] = usage
            out += self.data(value)
        return out + b"data: [DONE]\n\n"


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    # Tests open 64+ streams at once: the default backlog of 5 would make
    # connects wait for SYN retransmits.
    request_queue_size = 512
    verbose = False

    def handle_error(self, request, client_address):
        # A client resetting an idle keep-alive connection (curl's pool
        # when the host under test exits) is normal: no traceback for it.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description="LLM provider mock (see the module docstring)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    server = Server((args.host, args.port), Handler)
    server.verbose = args.verbose
    host, port = server.server_address[:2]
    print("listening %s:%d" % (host, port), flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
