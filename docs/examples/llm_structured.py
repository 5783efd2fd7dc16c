#!/usr/bin/env python3
"""Talks to an inference device the way a program does (docs/llm.md):
ioctls configure the session, a JSON conversation goes in, typed JSON
events come out, one per read.

    python3 docs/examples/llm_structured.py /tmp/bentos/llm

The integration test tests/integration/test_llm_tools.cpp runs this very
file against the mock provider through bentos-mount.
"""
import fcntl
import json
import os
import struct
import sys


def _IOW(nr, size):
    # Linux's _IOW(0, nr, size). The device matches the low 16 bits, so the
    # raw number works too, but a FUSE mount needs the size in the command:
    # the kernel copies exactly _IOC_SIZE(cmd) bytes to the device.
    return (1 << 30) | (size << 16) | nr


SET_MAX_TOKENS = _IOW(0x01, 4)     # int32
SET_INPUT_FORMAT = _IOW(0x06, 1)   # one byte: 0 unstructured, 1 structured
SET_OUTPUT_FORMAT = _IOW(0x07, 1)  # one byte: 0 unstructured, 1 structured
STRUCTURED = 1

device = sys.argv[1] if len(sys.argv) > 1 else "/dev/llm/anthropic/claude-sonnet-4-5"
fd = os.open(device, os.O_RDWR)
fcntl.ioctl(fd, SET_MAX_TOKENS, struct.pack("<i", 256))
fcntl.ioctl(fd, SET_OUTPUT_FORMAT, bytes([STRUCTURED]))
fcntl.ioctl(fd, SET_INPUT_FORMAT, bytes([STRUCTURED]))

conversation = [
    {"role": "system", "content": [{"mime_type": "text/plain", "text": "Answer in one sentence."}]},
    {"role": "user", "content": [{"mime_type": "text/plain", "text": "Why is the sky blue?"}]},
]
os.write(fd, json.dumps(conversation).encode())

while True:
    record = os.read(fd, 65536)  # one event per read; b"" once the answer is complete
    if not record:
        break
    event = json.loads(record)
    if event["type"] == "text_delta":
        print(event["text"], end="", flush=True)
    elif event["type"] == "complete":
        print()
        print("stop_reason:", event["metadata"]["stop_reason"])
os.close(fd)
