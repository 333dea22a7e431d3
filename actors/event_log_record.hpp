#pragma once

/// The packed record format of `event_log`, shared by its source files
/// (event_log_record.cpp encodes and parses records, event_log_drop.cpp
/// rewrites unsent ones, event_log.cpp walks the cursors). Not for use
/// outside the event log.

#include <cstddef>
#include <cstdint>
#include <deque>

#include "actors/varint.hpp"
#include "protocol/messages.hpp"

namespace actorexec::record_codec {

// A record: a tag byte, the frame size (4 bytes, little-endian, 0 until
// sent), and for output: the payload length (LEB128), [chunk index, chunk
// count (LEB128)], the payload. A rare record is only tag and frame size.
inline constexpr std::uint8_t tag_rare = 1;
inline constexpr std::uint8_t tag_stderr = 2;
inline constexpr std::uint8_t tag_base64 = 4;
inline constexpr std::uint8_t tag_truncated = 8;
inline constexpr std::uint8_t tag_chunked = 16; // a piece of a split line
inline constexpr std::size_t frame_size_bytes = 4;

/// Reads a record's fields in order. It walks an iterator: indexing a
/// deque finds the block of every byte anew, and records are parsed several
/// times in each event's life.
struct reader {
  std::deque<char>::const_iterator it;
  std::uint8_t byte() { return static_cast<std::uint8_t>(*it++); }
  std::uint64_t varint() { return read_varint(it); }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k)
      v |= static_cast<std::uint32_t>(byte()) << (8 * k);
    return v;
  }
};

template <class Out>
void put_u32(Out& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(v >> (8 * i))));
}

inline protocol::stream_kind stream_of(std::uint8_t tag) {
  return (tag & tag_stderr) ? protocol::stream_kind::err
                            : protocol::stream_kind::out;
}

} // namespace actorexec::record_codec
