#include "loadtest/json_string.hpp"

#include <cstdint>

#include "protocol/encode.hpp"
#include "protocol/utf8.hpp"

namespace actorexec::loadtest {

namespace {

constexpr auto npos = std::string_view::npos;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_space(std::string_view t, std::size_t i) {
  while (i < t.size() && is_space(t[i]))
    ++i;
  return i;
}

/// The index of the quote closing the string whose content starts at
/// `begin`, or npos: the first quote after an even run of backslashes.
std::size_t string_end(std::string_view t, std::size_t begin) {
  for (auto from = begin;;) {
    auto q = t.find('"', from);
    if (q == npos)
      return npos;
    std::size_t slashes = 0;
    while (q - slashes > begin && t[q - slashes - 1] == '\\')
      ++slashes;
    if (slashes % 2 == 0)
      return q;
    from = q + 1;
  }
}

/// The value of 4 hex digits at the start of `s`, or -1.
long hex4(std::string_view s) {
  if (s.size() < 4)
    return -1;
  long v = 0;
  for (int k = 0; k < 4; ++k) {
    char c = s[k];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Decodes `\uXXXX` (with its low half when it is a high surrogate) at the
/// start of `s`; returns the bytes used, 0 when it is not a whole character.
std::size_t append_unicode_escape(std::string_view s, std::string& out) {
  auto hi = hex4(s.substr(2));
  if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
    return 0;
  if (hi < 0xD800 || hi > 0xDBFF) {
    append_utf8(out, static_cast<std::uint32_t>(hi));
    return 6;
  }
  if (s.size() < 12 || s[6] != '\\' || s[7] != 'u')
    return 0;
  auto lo = hex4(s.substr(8));
  if (lo < 0xDC00 || lo > 0xDFFF)
    return 0;
  append_utf8(out, static_cast<std::uint32_t>(0x10000 + ((hi - 0xD800) << 10) +
                                              (lo - 0xDC00)));
  return 12;
}

/// Decodes the escape at the start of `s` (which starts with a backslash);
/// returns the bytes used, 0 when it is not a valid escape.
std::size_t append_escape(std::string_view s, std::string& out) {
  if (s.size() < 2)
    return 0;
  char c;
  switch (s[1]) {
  case '"':
  case '\\':
  case '/':
    c = s[1];
    break;
  case 'b':
    c = '\b';
    break;
  case 'f':
    c = '\f';
    break;
  case 'n':
    c = '\n';
    break;
  case 'r':
    c = '\r';
    break;
  case 't':
    c = '\t';
    break;
  case 'u':
    return append_unicode_escape(s, out);
  default:
    return 0;
  }
  out += c;
  return 2;
}

/// Appends bytes that need no decoding, if they are valid UTF-8. Escapes
/// are ASCII, so a character never spans two runs.
bool append_run(std::string_view run, std::string& out) {
  if (!protocol::is_valid_utf8(run))
    return false;
  out.append(run);
  return true;
}

} // namespace

std::optional<string_span> find_params_data(std::string_view t) {
  std::optional<string_span> found;
  std::size_t depth = 0;  // objects and arrays open
  bool in_params = false; // the container at depth 2 is the root's params
  std::string_view key;   // the last key read
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '{' || c == '[') {
      ++depth;
      if (depth == 2 && c == '{' && key == "params") {
        in_params = true;
        found.reset(); // a repeated params replaces the earlier one
      }
    } else if (c == '}' || c == ']') {
      if (depth == 0)
        return std::nullopt;
      if (depth-- == 2)
        in_params = false;
    } else if (c == '"') {
      auto end = string_end(t, i + 1);
      if (end == npos)
        return std::nullopt;
      auto colon = skip_space(t, end + 1);
      bool is_key = colon < t.size() && t[colon] == ':';
      if (!is_key) {
        i = end;
        continue;
      }
      key = t.substr(i + 1, end - i - 1);
      if (key.find('\\') != npos)
        return std::nullopt;
      i = colon;
      if (in_params && depth == 2 && key == "data") {
        auto v = skip_space(t, colon + 1);
        found.reset();
        if (v < t.size() && t[v] == '"') {
          auto v_end = string_end(t, v + 1);
          if (v_end == npos)
            return std::nullopt;
          found = string_span{v + 1, v_end};
          i = v_end;
        }
      }
    }
  }
  return found;
}

bool unescape_json_string(std::string_view s, std::string& out) {
  while (true) {
    auto clean = protocol::json_clean_prefix(s);
    if (!append_run(s.substr(0, clean), out))
      return false;
    if (clean == s.size())
      return true;
    if (s[clean] != '\\') // a control character or a bare quote
      return false;
    auto used = append_escape(s.substr(clean), out);
    if (used == 0)
      return false;
    s.remove_prefix(clean + used);
  }
}

} // namespace actorexec::loadtest
