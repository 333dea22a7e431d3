#include "protocol/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace actorexec::protocol {

namespace {

using byte = unsigned char;

constexpr std::uint64_t high_bits = 0x8080808080808080ull;

/// True when the 8 bytes at `p` are all ASCII. Most child output is ASCII,
/// so checking a word at a time skips the per-byte decoder almost always.
inline bool ascii8(const byte* p) {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  return (word & high_bits) == 0;
}

inline bool is_continuation(byte c) {
  return (c & 0xC0) == 0x80;
}

/// Length of the sequence that lead byte `c` announces; 0 for bytes that
/// can never start a well-formed sequence (continuations, C0, C1, F5..FF).
inline std::size_t expected_length(byte c) {
  if (c < 0x80)
    return 1;
  if (c < 0xC2)
    return 0;
  if (c < 0xE0)
    return 2;
  if (c < 0xF0)
    return 3;
  if (c < 0xF5)
    return 4;
  return 0;
}

/// The range of the second byte after lead `c` (Unicode table 3-7): this is
/// where overlongs, surrogates and code points above U+10FFFF are excluded.
inline bool second_byte_ok(byte lead, byte c) {
  switch (lead) {
  case 0xE0:
    return c >= 0xA0 && c <= 0xBF;
  case 0xED:
    return c >= 0x80 && c <= 0x9F;
  case 0xF0:
    return c >= 0x90 && c <= 0xBF;
  case 0xF4:
    return c >= 0x80 && c <= 0x8F;
  default:
    return is_continuation(c);
  }
}

/// True when the `avail` bytes at `p` (fewer than the lead announces, or
/// exactly as many) contain no byte that rules the sequence out.
inline bool valid_prefix(const byte* p, std::size_t avail) {
  if (avail >= 2 && !second_byte_ok(p[0], p[1]))
    return false;
  for (std::size_t i = 2; i < avail; ++i)
    if (!is_continuation(p[i]))
      return false;
  return true;
}

/// Length of the well-formed character starting at `p`, or 0 when the byte
/// at `p` starts none within the `avail` bytes.
inline std::size_t char_length(const byte* p, std::size_t avail) {
  auto n = expected_length(p[0]);
  if (n <= 1)
    return n;
  if (n > avail || !valid_prefix(p, n))
    return 0;
  return n;
}

/// One step of the character walk: a well-formed character, or one byte of
/// invalid data. Every non-continuation byte starts a step, so walking from
/// any such byte agrees with walking from the start.
inline std::size_t step(const byte* p, std::size_t avail) {
  auto n = char_length(p, avail);
  return n == 0 ? 1 : n;
}

/// Walks at most `n` characters of `s`; returns the byte offset reached
/// and stores the number of characters walked in `walked`.
std::size_t walk(std::string_view s, std::size_t n, std::size_t& walked) {
  auto p = reinterpret_cast<const byte*>(s.data());
  std::size_t size = s.size();
  std::size_t i = 0;
  std::size_t count = 0;
  while (i < size && count < n) {
    if (n - count >= 8 && size - i >= 8 && ascii8(p + i)) {
      i += 8;
      count += 8;
      continue;
    }
    i += step(p + i, size - i);
    ++count;
  }
  walked = count;
  return i;
}

} // namespace

bool is_valid_utf8(std::string_view s) {
  auto p = reinterpret_cast<const byte*>(s.data());
  std::size_t size = s.size();
  std::size_t i = 0;
  while (i < size) {
    if (size - i >= 8 && ascii8(p + i)) {
      i += 8;
      continue;
    }
    auto n = char_length(p + i, size - i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

std::size_t utf8_complete_prefix(std::string_view s) {
  auto p = reinterpret_cast<const byte*>(s.data());
  std::size_t size = s.size();
  // The lead of an incomplete character is at most 3 bytes from the end.
  for (std::size_t k = 1; k <= 3 && k <= size; ++k) {
    std::size_t i = size - k;
    if (is_continuation(p[i]))
      continue;
    auto n = expected_length(p[i]);
    if (n > k && valid_prefix(p + i, k))
      return i;
    return size;
  }
  return size;
}

std::size_t utf8_boundary_before(std::string_view s, std::size_t pos) {
  auto p = reinterpret_cast<const byte*>(s.data());
  std::size_t size = s.size();
  if (pos >= size)
    return size;
  for (std::size_t k = 1; k <= 3 && k <= pos; ++k) {
    std::size_t i = pos - k;
    if (is_continuation(p[i]))
      continue;
    // A character starting at i covers pos only if it is longer than k.
    return char_length(p + i, size - i) > k ? i : pos;
  }
  return pos;
}

std::size_t utf8_length(std::string_view s) {
  std::size_t walked = 0;
  walk(s, s.size(), walked);
  return walked;
}

std::size_t utf8_offset_of_char(std::string_view s, std::size_t n) {
  std::size_t walked = 0;
  return walk(s, n, walked);
}

} // namespace actorexec::protocol
