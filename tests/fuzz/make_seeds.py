#!/usr/bin/python3
"""Writes the seed corpora of the framer and ws_server fuzz targets
(tests/fuzz/corpus/framer, tests/fuzz/corpus/ws_server); the layouts are
described in framer_fuzz_check.hpp and ws_server_fuzz_check.hpp. Rerun after
changing a layout; the fuzzers add their own finds to copies of these."""

import os

HERE = os.path.dirname(os.path.abspath(__file__))


def framer_seed(mode, line_chars, chunk_bytes, pending, reads, data):
    return bytes([mode, line_chars, chunk_bytes, pending, len(reads),
                  *reads]) + data


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, form=None):
    """A client frame; the mask key is 00 00 00 00 so the payload stays
    readable to the fuzzer."""
    n = len(payload)
    head = bytearray([(0x80 if fin else 0) | rsv << 4 | opcode])
    bit = 0x80 if mask else 0
    form = form or (7 if n < 126 else 16 if n < 65536 else 64)
    if form == 7:
        head.append(bit | n)
    elif form == 16:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    return bytes(head) + (b"\0\0\0\0" if mask else b"") + payload


def ws_seed(read_size, message_max, data):
    return bytes([read_size, message_max]) + data


FRAMER = {
    "lines_default": framer_seed(0, 0xff, 0xff, 0xff, [],
                                 b"hello\nworld\n\xf0\x9f\x98\x80 done\n"),
    "lines_small": framer_seed(0, 6, 4, 20, [1, 3, 7],
                               b"0123456789abcdef\n\xe2\x82\xacx\xe2\x82"
                               b"\xac\nno newline at the end"),
    "lines_invalid": framer_seed(0, 3, 4, 8, [2, 5],
                                 b"\xff\xfe ok \xc3\x28 \xed\xa0\x80\n"
                                 b"emoji \xf0\x9f\x98\x80 done\n"),
    "lines_long_pending": framer_seed(0, 4, 4, 10, [1, 2, 13],
                                      b"x" * 40 + b"\xf0\x9f\x98\x80" * 5
                                      + b"\n"),
    "chunks_small": framer_seed(1, 1, 5, 1, [1, 4, 9],
                                b"\xf0\x9f\x98\x80abc\xe2\x82\xac" * 4
                                + b"\xff\x80\xc3"),
    "chunks_default": framer_seed(1, 0xff, 0xff, 0xff, [16],
                                  bytes(range(256)) + b"\n"),
}

PING = b'{"jsonrpc":"2.0","method":"ping","id":1}'
EXECUTE = (b'{"jsonrpc":"2.0","method":"execute","id":"x","params":'
           b'{"command":"echo hi","timeout":5,"framing":"lines"}}')
WS = {
    "ping": ws_seed(7, 3, frame(1, PING)),
    "execute_fragmented": ws_seed(
        2, 3, frame(1, EXECUTE[:20], fin=False) + frame(9, b"p")
        + frame(0, EXECUTE[20:50], fin=False) + frame(0, EXECUTE[50:])),
    "utf8_split": ws_seed(1, 3, frame(1, b'{"jsonrpc":"2.0","method":"ping",'
                                      b'"id":2,"x":"\xf0\x9f', fin=False)
                          + frame(0, b'\x98\x80"}')),
    "binary_then_text": ws_seed(6, 3, frame(2, PING) + frame(1, PING)),
    "close_normal": ws_seed(7, 3, frame(1, PING) + frame(8, b"\x03\xe8bye")),
    "close_invalid_code": ws_seed(7, 3, frame(8, b"\x03\xed")),
    "too_big": ws_seed(7, 0, frame(1, b" " * 40)),
    "length_16": ws_seed(5, 2, frame(1, b" " * 200 + PING)),
    # The header of a 64-bit length; the payload is cut short (EOF).
    "length_64": ws_seed(6, 3, frame(1, b" " * 70000 + PING)[:300]),
    "reserved_bits": ws_seed(7, 3, frame(1, PING, rsv=4)),
    "reserved_opcode": ws_seed(7, 3, frame(3, b"x")),
    "unmasked": ws_seed(7, 3, frame(1, PING, mask=False)),
    "ping_pong": ws_seed(0, 3, frame(9, b"x" * 125) + frame(10, b"y")
                         + frame(1, PING)),
    "invalid_json": ws_seed(7, 3, frame(1, b'{"jsonrpc":"2.0",') +
                            frame(1, b"[1,2]")),
}


def write(directory, seeds):
    os.makedirs(directory, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


write(os.path.join(HERE, "corpus", "framer"), FRAMER)
write(os.path.join(HERE, "corpus", "ws_server"), WS)
