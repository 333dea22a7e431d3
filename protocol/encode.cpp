#include "protocol/encode.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#include <boost/json/serialize.hpp>

#include "protocol/utf8.hpp"

namespace json = boost::json;

namespace actorexec::protocol {

namespace {

/// Every frame starts with this.
constexpr std::string_view frame_start = R"({"jsonrpc":"2.0",)";

// -- JSON string escaping -----------------------------------------------------

constexpr std::uint64_t ones = 0x0101010101010101ull;
constexpr std::uint64_t high_bits = 0x8080808080808080ull;

/// True when some byte of `w` is zero (exact, see "Bit Twiddling Hacks").
constexpr bool has_zero_byte(std::uint64_t w) {
  return ((w - ones) & ~w & high_bits) != 0;
}

/// True when some byte of `w` is below `n` (exact for n <= 128).
constexpr bool has_byte_below(std::uint64_t w, std::uint8_t n) {
  return ((w - ones * n) & ~w & high_bits) != 0;
}

/// True when one of the 8 bytes at `p` needs an escape: a control
/// character, a quote or a backslash. Lets clean text skip 8 bytes at once.
inline bool block_needs_escape(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return has_byte_below(w, 0x20) || has_zero_byte(w ^ (ones * '"')) ||
         has_zero_byte(w ^ (ones * '\\'));
}

inline bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
  case '"':
    out += "\\\"";
    return;
  case '\\':
    out += "\\\\";
    return;
  case '\n':
    out += "\\n";
    return;
  case '\r':
    out += "\\r";
    return;
  case '\t':
    out += "\\t";
    return;
  case '\b':
    out += "\\b";
    return;
  case '\f':
    out += "\\f";
    return;
  default: {
    constexpr char hex[] = "0123456789abcdef";
    char buf[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
    out.append(buf, sizeof(buf));
  }
  }
}

/// Appends text that may not be valid UTF-8 (error messages quoting what a
/// client or the system said): invalid bytes become U+FFFD, so that the
/// frame stays a valid text frame. Output data never goes this way.
void append_text(std::string& out, std::string_view s) {
  if (is_valid_utf8(s)) {
    append_json_string(out, s);
    return;
  }
  std::string clean;
  clean.reserve(s.size() + 16);
  while (!s.empty()) {
    auto n = utf8_offset_of_char(s, 1);
    auto ch = s.substr(0, n);
    clean += is_valid_utf8(ch) ? ch : std::string_view{"\xEF\xBF\xBD"};
    s.remove_prefix(n);
  }
  append_json_string(out, clean);
}

// -- numbers and members ------------------------------------------------------

template <class Integer>
void append_integer(std::string& out, Integer x) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, res.ptr);
}

/// Shortest round-trip form, always with a fraction or an exponent so that
/// clients read a float; non-finite values (not JSON) become null.
void append_double(std::string& out, double x) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  std::string_view text{buf, static_cast<std::size_t>(res.ptr - buf)};
  out += text;
  if (text.find_first_of(".e") == text.npos)
    out += ".0";
}

/// Appends `"name":`; names are our own ASCII constants.
void append_key(std::string& out, std::string_view name) {
  out += '"';
  out += name;
  out += "\":";
}

void append_notification_start(std::string& out, std::string_view method) {
  out += frame_start;
  out += R"("method":)";
  append_text(out, method);
  out += R"(,"params":{)";
}

void append_notification_end(std::string& out) {
  out += "}}";
}

void append_id(std::string& out, const request_id& id) {
  if (!id)
    return;
  out += R"("id":)";
  out += json::serialize(*id);
  out += ',';
}

template <class T>
void append_optional_integer(std::string& out, const std::optional<T>& x) {
  if (x)
    append_integer(out, *x);
  else
    out += "null";
}

} // namespace

std::size_t json_clean_prefix(std::string_view s) {
  const char* data = s.data();
  std::size_t size = s.size();
  std::size_t i = 0;
  while (size - i >= 8 && !block_needs_escape(data + i))
    i += 8;
  while (i < size && !needs_escape(static_cast<unsigned char>(data[i])))
    ++i;
  return i;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  while (true) {
    auto clean = json_clean_prefix(s);
    out.append(s.data(), clean);
    if (clean == s.size())
      break;
    append_escape(out, static_cast<unsigned char>(s[clean]));
    s.remove_prefix(clean + 1);
  }
  out += '"';
}

std::string encode_result(const request_id& id, json::value result) {
  std::string out{frame_start};
  append_id(out, id);
  out += R"("result":)";
  out += json::serialize(result);
  out += '}';
  return out;
}

std::string encode_error(const request_id& id, const rpc_error& err) {
  std::string out{frame_start};
  append_id(out, id);
  out += R"("error":{"code":)";
  append_integer(out, static_cast<int>(err.code));
  out += R"(,"message":)";
  append_text(out, err.message);
  out += R"(,"data":)";
  out += json::serialize(err.data);
  out += "}}";
  return out;
}

std::string encode_notification(std::string_view method, json::object params) {
  std::string out{frame_start};
  out += R"("method":)";
  append_text(out, method);
  out += R"(,"params":)";
  out += json::serialize(params);
  out += '}';
  return out;
}

std::string encode_connected(std::string_view session_id,
                             std::string_view resume_token,
                             std::uint64_t heartbeat_interval_ms) {
  std::string out;
  append_notification_start(out, "connected");
  append_key(out, "session_id");
  append_text(out, session_id);
  out += ',';
  append_key(out, "version");
  append_json_string(out, protocol_version);
  out += ',';
  append_key(out, "capabilities");
  out += R"(["execute","control","stream","input","resume","ack","status"],)";
  append_key(out, "resume_token");
  append_text(out, resume_token);
  out += ',';
  append_key(out, "heartbeat_interval_ms");
  append_integer(out, heartbeat_interval_ms);
  append_notification_end(out);
  return out;
}

void append_output(std::string& out, stream_kind stream,
                   const output_piece& piece, std::uint64_t seq) {
  // Hot path: no DOM; the caller's buffer usually has room already.
  constexpr std::string_view head =
      R"({"jsonrpc":"2.0","method":"process.output","params":{"type":")";
  out.reserve(out.size() + head.size() + piece.data.size() + 128);
  out += head;
  out += to_string(stream);
  out += R"(","data":)";
  append_json_string(out, piece.data);
  if (piece.base64)
    out += R"(,"encoding":"base64")";
  out += piece.truncated ? R"(,"truncated":true)" : R"(,"truncated":false)";
  out += R"(,"chunk_index":)";
  append_integer(out, piece.chunk_index);
  out += R"(,"total_chunks":)";
  append_integer(out, piece.total_chunks);
  out += R"(,"seq":)";
  append_integer(out, seq);
  append_notification_end(out);
}

std::string encode_output(stream_kind stream, const output_piece& piece,
                          std::uint64_t seq) {
  std::string out;
  append_output(out, stream, piece, seq);
  return out;
}

std::string encode_process_event(std::string_view method,
                                 std::string_view status, std::int64_t pid,
                                 std::int64_t pgid, std::uint64_t seq) {
  std::string out;
  append_notification_start(out, method);
  append_key(out, "status");
  append_text(out, status);
  out += R"(,"pid":)";
  append_integer(out, pid);
  out += R"(,"pgid":)";
  append_integer(out, pgid);
  out += R"(,"exit_code":null,"error":null,"seq":)";
  append_integer(out, seq);
  append_notification_end(out);
  return out;
}

std::string encode_completed(const completion& c, std::uint64_t seq) {
  std::string out;
  append_notification_start(out, "process.completed");
  append_key(out, "status");
  append_text(out, to_string(c.status));
  out += R"(,"pid":)";
  append_integer(out, c.pid);
  out += R"(,"pgid":)";
  append_integer(out, c.pgid);
  out += R"(,"exit_code":)";
  append_optional_integer(out, c.exit_code);
  out += R"(,"signal":)";
  append_optional_integer(out, c.signal);
  out += R"(,"error":)";
  if (c.error)
    append_text(out, *c.error);
  else
    out += "null";
  out += R"(,"execution_time":)";
  append_double(out, c.execution_time);
  out += R"(,"seq":)";
  append_integer(out, seq);
  append_notification_end(out);
  return out;
}

std::string encode_process_error(std::string_view error, std::uint64_t seq) {
  std::string out;
  append_notification_start(out, "process.error");
  append_key(out, "error");
  append_text(out, error);
  out += R"(,"seq":)";
  append_integer(out, seq);
  append_notification_end(out);
  return out;
}

void add_warnings(boost::json::value& result,
                  const std::vector<std::string>& unknown_params) {
  auto obj = result.if_object();
  if (obj == nullptr || unknown_params.empty())
    return;
  boost::json::array warnings;
  for (auto& name : unknown_params)
    warnings.emplace_back("unknown param '" + name + "' was ignored");
  (*obj)["warnings"] = std::move(warnings);
}

std::string encode_stream_gap(stream_kind stream, std::uint64_t dropped_bytes,
                              std::uint64_t dropped_frames, std::uint64_t seq,
                              bool exact) {
  std::string out;
  append_notification_start(out, "stream.gap");
  append_key(out, "type");
  append_json_string(out, to_string(stream));
  out += R"(,"dropped_bytes":)";
  append_integer(out, dropped_bytes);
  out += R"(,"dropped_frames":)";
  append_integer(out, dropped_frames);
  if (!exact)
    out += R"(,"dropped_bytes_exact":false)";
  out += R"(,"seq":)";
  append_integer(out, seq);
  append_notification_end(out);
  return out;
}

std::string encode_ping(double timestamp) {
  std::string out;
  append_notification_start(out, "ping");
  append_key(out, "timestamp");
  append_double(out, timestamp);
  append_notification_end(out);
  return out;
}

std::string encode_server_shutdown(std::uint64_t grace_ms) {
  std::string out;
  append_notification_start(out, "server.shutdown");
  append_key(out, "grace_ms");
  append_integer(out, grace_ms);
  append_notification_end(out);
  return out;
}

} // namespace actorexec::protocol
