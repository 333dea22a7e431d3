#pragma once

#include <cstddef>
#include <string_view>

namespace actorexec::protocol {

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view s);

/// Length of the longest prefix of `s` that does not end inside a UTF-8
/// sequence which the following bytes could still complete. Bytes beyond it
/// (at most 3) are an incomplete trailing character to hold back.
std::size_t utf8_complete_prefix(std::string_view s);

/// The largest cut position `<= pos` that does not split a UTF-8 character
/// of `s` (falls back to `pos` inside invalid data).
std::size_t utf8_boundary_before(std::string_view s, std::size_t pos);

/// Number of characters in `s`, counting each invalid byte as one.
std::size_t utf8_length(std::string_view s);

/// Byte offset of character number `n` of `s` (or `s.size()`).
std::size_t utf8_offset_of_char(std::string_view s, std::size_t n);

} // namespace actorexec::protocol
