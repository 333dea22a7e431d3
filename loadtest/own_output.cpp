// actorexec's own `process.output` frames, read without the JSON parser.

#include "loadtest/own_output.hpp"

#include <optional>

#include "loadtest/json_string.hpp"

namespace actorexec::loadtest {

namespace {

/// Removes `prefix` from the front of `text` if it is there.
bool consume(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix)
    return false;
  text.remove_prefix(prefix.size());
  return true;
}

/// Removes a JSON integer of at most 19 digits (0, or no leading zero) from
/// the front of `text`: what the parser reads as an exact int64.
std::optional<std::uint64_t> consume_integer(std::string_view& text) {
  std::size_t n = 0;
  std::uint64_t v = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9' && n < 20)
    v = v * 10 + static_cast<std::uint64_t>(text[n++] - '0');
  if (n == 0 || n > 19 || (n > 1 && text[0] == '0'))
    return std::nullopt;
  text.remove_prefix(n);
  return v;
}

/// The content of the JSON string at the front of `text`, whose opening
/// quote is gone: up to the first quote that an even number of backslashes
/// precedes (found with memchr: chunk frames carry 64 KiB strings). Removes
/// it and the closing quote. Whether the content is valid is for
/// `unescape_json_string` to say; if it is, the parser ends the string at
/// the same quote.
std::optional<std::string_view> consume_string_content(std::string_view& text) {
  for (std::size_t from = 0;;) {
    auto quote = text.find('"', from);
    if (quote == std::string_view::npos)
      return std::nullopt;
    std::size_t backslashes = 0;
    while (backslashes < quote && text[quote - 1 - backslashes] == '\\')
      ++backslashes;
    if (backslashes % 2 == 0) {
      auto content = text.substr(0, quote);
      text.remove_prefix(quote + 1);
      return content;
    }
    from = quote + 1;
  }
}

void set_string(string_field& field, std::string_view value) {
  field.present = field.is_string = true;
  field.text.assign(value);
}

} // namespace

bool scan_own_output(std::string_view text, rpc_fields& f) {
  if (!consume(
          text,
          R"({"jsonrpc":"2.0","method":"process.output","params":{"type":")"))
    return false;
  std::string_view type;
  if (consume(text, "stdout"))
    type = "stdout";
  else if (consume(text, "stderr"))
    type = "stderr";
  else
    return false;
  if (!consume(text, R"(","data":")"))
    return false;
  auto data = consume_string_content(text);
  if (!data)
    return false;
  bool base64 = consume(text, R"(,"encoding":"base64")");
  if (!consume(text, R"(,"truncated":)") ||
      !(consume(text, "false") || consume(text, "true")) ||
      !consume(text, R"(,"chunk_index":)") || !consume_integer(text) ||
      !consume(text, R"(,"total_chunks":)") || !consume_integer(text) ||
      !consume(text, R"(,"seq":)"))
    return false;
  auto seq = consume_integer(text);
  if (!seq || text != "}}")
    return false;
  f.clear();
  if (!unescape_json_string(*data, f.data.text))
    return false;
  f.data.present = f.data.is_string = true;
  set_string(f.method, "process.output");
  f.params = f.params_object = true;
  set_string(f.type, type);
  if (base64)
    set_string(f.encoding, "base64");
  f.seq = *seq;
  return true;
}

} // namespace actorexec::loadtest
