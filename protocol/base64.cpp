#include "protocol/base64.hpp"

#include <array>
#include <cstdint>

namespace actorexec::protocol {

namespace {

constexpr char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Maps a character to its 6-bit value, or to 0xFF when it is not part of
/// the alphabet (padding included).
constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  for (auto& x : table)
    x = 0xFF;
  for (std::uint8_t i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(alphabet[i])] = i;
  return table;
}

constexpr auto decode_table = make_decode_table();

} // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.resize((bytes.size() + 2) / 3 * 4);
  auto in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  char* o = out.data();
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    *o++ = alphabet[(v >> 18) & 0x3F];
    *o++ = alphabet[(v >> 12) & 0x3F];
    *o++ = alphabet[(v >> 6) & 0x3F];
    *o++ = alphabet[v & 0x3F];
  }
  if (auto rest = n - i; rest > 0) {
    std::uint32_t v = in[i] << 16;
    if (rest == 2)
      v |= in[i + 1] << 8;
    *o++ = alphabet[(v >> 18) & 0x3F];
    *o++ = alphabet[(v >> 12) & 0x3F];
    *o++ = rest == 2 ? alphabet[(v >> 6) & 0x3F] : '=';
    *o++ = '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return std::nullopt;
  // Padding may only close the last quartet, at most two characters of it.
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=')
    pad = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::size_t body = text.size() - pad;
  std::uint32_t acc = 0;
  for (std::size_t i = 0; i < body; ++i) {
    auto v = decode_table[static_cast<unsigned char>(text[i])];
    if (v == 0xFF)
      return std::nullopt;
    acc = (acc << 6) | v;
    if (i % 4 == 3) {
      out.push_back(static_cast<char>((acc >> 16) & 0xFF));
      out.push_back(static_cast<char>((acc >> 8) & 0xFF));
      out.push_back(static_cast<char>(acc & 0xFF));
      acc = 0;
    }
  }
  // Leftover bits of a padded quartet; non-zero trailing bits are tolerated
  // like most decoders do.
  if (pad == 1) {
    out.push_back(static_cast<char>((acc >> 10) & 0xFF));
    out.push_back(static_cast<char>((acc >> 2) & 0xFF));
  } else if (pad == 2) {
    out.push_back(static_cast<char>((acc >> 4) & 0xFF));
  }
  return out;
}

std::size_t base64_decoded_size(std::string_view text) {
  auto n = text.size() / 4 * 3;
  if (!text.empty() && text.back() == '=')
    --n;
  if (text.size() >= 2 && text[text.size() - 2] == '=')
    --n;
  return n;
}

} // namespace actorexec::protocol
