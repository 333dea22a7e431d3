#pragma once

#include <cstddef>
#include <cstdint>

namespace actorexec {

/// Appends `v` as LEB128: 7 bits per byte, low bits first, the high bit set
/// on every byte but the last. Small numbers (line lengths) take one byte.
template <class Out>
void put_varint(Out& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(v) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

/// Reads the LEB128 number at `it` and moves `it` past it.
template <class It>
std::uint64_t read_varint(It& it) {
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    auto b = static_cast<std::uint8_t>(*it++);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0)
      return v;
  }
}

} // namespace actorexec
