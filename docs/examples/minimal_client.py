#!/usr/bin/env python3
"""A minimal LanChat client, written only from docs/PROTOCOL.md (Python 3, standard library only).

usage: minimal_client.py HOST PORT NAME PASSWORD [TEXT] [--wait SECONDS] [--pins FILE] [--fingerprint FP] [--no-tls]

Connects over TLS and checks the host's certificate fingerprint against the one pinned in
FILE (default ~/.lanchat-minimal-pins.json; the first connection pins it, §2.2), or against
--fingerprint FP. Says hello, logs in (the first login registers NAME), catches up with sync,
sends TEXT to the room, prints every push it receives, answers pings and sends its own
while idle, listens for SECONDS (default 0), then logs out. --no-tls is for a host that
turned TLS off.
"""
import hashlib
import json
import os
import socket
import ssl
import struct
import sys
import time
import uuid


def fingerprint_of(der):
    """SHA-256 of the DER certificate as colon-separated upper-case hex (§2.2)."""
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def open_tls(host, port, expected):
    """A TLS socket whose certificate fingerprint was checked before anything is sent (§2.2)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False  # self-signed: the pin, not a CA, authenticates the host
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((host, port), timeout=10)
    try:
        sock = context.wrap_socket(raw)
    except ssl.SSLError as error:
        raw.close()
        raise ConnectionError(f"{host}:{port} did not answer with TLS (TLS off on the host?): {error}") from None
    fingerprint = fingerprint_of(sock.getpeercert(binary_form=True))
    if expected is not None and fingerprint != expected:
        sock.close()
        raise ConnectionError(
            f"the certificate of {host}:{port} changed: pinned {expected}, presented {fingerprint}; "
            "someone may be impersonating the host. Nothing was sent."
        )
    return sock, fingerprint


class RequestFailed(Exception):
    def __init__(self, error):
        super().__init__(f"{error['code']}: {error['message']}")
        self.code = error["code"]


class Client:
    def __init__(self, host, port, tls=True, fingerprint=None):
        if tls:
            self.sock, self.fingerprint = open_tls(host, port, fingerprint)
        else:
            self.sock, self.fingerprint = socket.create_connection((host, port), timeout=10), None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.next_id = 1
        self.ping_every = 5.0  # replaced by heartbeatMs / 4 after hello
        self.last_sent = time.monotonic()
        self.cursor = 0  # highest message id processed (PROTOCOL.md §11.1)
        self.held = None  # message pushes held while catching up (§11.2)
        self.closed = False

    # ---- framing (§3): 4-byte big-endian length + UTF-8 JSON object
    def write(self, frame):
        payload = json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)
        self.last_sent = time.monotonic()

    def read_frame(self, timeout):
        """The next frame as a dict, or None if none is complete within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                (length,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) >= 4 + length:
                    payload = bytes(self.buf[4 : 4 + length])
                    del self.buf[: 4 + length]
                    return json.loads(payload.decode("utf-8"))
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                return None
            if not chunk:
                self.closed = True
                raise ConnectionError("the server closed the connection")
            self.buf += chunk

    def next_frame(self):
        """Waits for a frame, sending a ping whenever we have been quiet for ping_every (§12)."""
        while True:
            wait = self.ping_every - (time.monotonic() - self.last_sent)
            frame = self.read_frame(max(wait, 0)) if wait > 0 else None
            if frame is not None:
                return frame
            if time.monotonic() - self.last_sent >= self.ping_every:
                self.write({"type": "ping"})

    # ---- requests (§4.1, §4.2)
    def request(self, type_, **fields):
        request_id = self.next_id
        self.next_id += 1
        self.write({"type": type_, "id": request_id, **fields})
        while True:
            frame = self.next_frame()
            if frame.get("type") == "res" and frame.get("id") == request_id:
                if frame["ok"]:
                    return frame["result"]
                raise RequestFailed(frame["error"])
            self.on_push(frame)
            if self.closed:
                raise ConnectionError("the server said bye")

    # ---- pushes (§8)
    def on_push(self, frame):
        kind = frame.get("type")
        if kind == "ping":
            self.write({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "message":
            if self.held is not None:
                self.held.append(frame["message"])
            else:
                self.on_message(frame["message"])
        elif kind == "bye":
            print(f"<< bye {frame['error']['code']}: {frame['error']['message']}")
            self.closed = True
            self.sock.close()
        else:
            print(f"<< push {json.dumps(frame, ensure_ascii=False)}")

    def on_message(self, message):
        if message["id"] <= self.cursor:
            return  # already seen (from sync or as our own send result)
        self.cursor = message["id"]
        where = message["conv"] if "to" not in message else f"dm {message['from']}->{message['to']}"
        print(f"<< message #{message['id']} [{where}] {message['from']}: {message['text']}")

    def catch_up(self, after):
        """sync until hasMore is false, holding live message pushes meanwhile (§11.2)."""
        self.cursor = after
        self.held = []
        while True:
            page = self.request("sync", after=self.cursor, limit=100)
            for message in page["messages"]:
                self.on_message(message)
            if not page["hasMore"]:
                break
        held, self.held = self.held, None
        for message in held:
            self.on_message(message)

    def listen(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.closed:
            wait = min(deadline - time.monotonic(), self.ping_every - (time.monotonic() - self.last_sent))
            frame = self.read_frame(max(wait, 0))
            if frame is not None:
                self.on_push(frame)
            elif time.monotonic() - self.last_sent >= self.ping_every:
                self.write({"type": "ping"})


def take_option(argv, flag, has_value=True):
    if flag not in argv:
        return None
    at = argv.index(flag)
    value = argv[at + 1] if has_value else True
    del argv[at : at + (2 if has_value else 1)]
    return value


def main(argv):
    wait = float(take_option(argv, "--wait") or 0)
    pins_file = take_option(argv, "--pins") or os.path.expanduser("~/.lanchat-minimal-pins.json")
    given = take_option(argv, "--fingerprint")
    tls = not take_option(argv, "--no-tls", has_value=False)
    if len(argv) not in (4, 5):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    host, port, name, password = argv[0], int(argv[1]), argv[2], argv[3]
    text = argv[4] if len(argv) == 5 else "hello from minimal_client.py"
    pins = {}
    if os.path.exists(pins_file):
        with open(pins_file) as stored:
            pins = json.load(stored)
    server = f"{host.lower()}:{port}"
    expected = given.upper() if given else pins.get(server)

    try:
        client = Client(host, port, tls, expected)
        if client.fingerprint is None:
            print("not encrypted: the host has TLS off")
        else:
            print(f"fingerprint {client.fingerprint}")
            if client.fingerprint != pins.get(server):
                pins[server] = client.fingerprint
                with open(pins_file, "w") as out:
                    json.dump(pins, out, indent=2)
                print(f"pinned for {server} in {pins_file}")
    except OSError as error:
        print(f"cannot connect: {error}", file=sys.stderr)
        return 1
    try:
        hello = client.request("hello", protocol="1.0", client="minimal_client.py/1")
        client.ping_every = hello["heartbeatMs"] / 4 / 1000
        print(f"connected to room {hello['room']!r} ({hello['server']}, protocol {hello['protocol']})")

        login = client.request("login", name=name, password=password)
        print(f"logged in as {login['name']} (registered: {login['registered']})")
        client.catch_up(login["deliveredUpTo"])

        result = client.request("send", clientMsgId=str(uuid.uuid4()), to={"kind": "room"}, text=text)
        message = result["message"]
        client.cursor = max(client.cursor, message["id"])
        print(f">> sent #{message['id']} duplicate={result['duplicate']} delivered={result['delivered']}")

        client.listen(wait)
        client.request("logout")
        print("logged out")
        while not client.closed:  # read up to the bye frame
            client.on_push(client.next_frame())
    except RequestFailed as error:
        print(f"refused: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # ConnectionError and friends
        print(f"connection lost: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
