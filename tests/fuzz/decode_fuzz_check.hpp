#pragma once

// The checks one fuzz input goes through; shared by the libFuzzer target
// (which aborts on a violation) and the protocol_fuzz_replay ctest (which
// replays the seed corpus and every kept regression with any compiler).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>

#include "protocol/encode.hpp"
#include "protocol/framer.hpp"
#include "protocol/messages.hpp"
#include "protocol/utf8.hpp"

namespace actorexec::fuzz {

/// True when `frame` is one JSON object in valid UTF-8, as every server
/// frame must be.
inline bool is_json_frame(const std::string& frame) {
  if (!protocol::is_valid_utf8(frame))
    return false;
  boost::system::error_code ec;
  auto v = boost::json::parse(frame, ec);
  return !ec && v.is_object();
}

/// decode() gives exactly one outcome, and an error answer is a valid frame.
/// Returns the violation, or "" when there is none.
inline std::string check_decode(std::string_view data) {
  auto r = protocol::decode(data);
  int outcomes =
      int{r.req.has_value()} + int{r.error.has_value()} + int{r.ignore};
  if (outcomes != 1)
    return "decode: not exactly one of req, error, ignore";
  if (r.req) {
    const auto& id = r.req->id;
    if (id && !id->is_string() && !id->is_int64() && !id->is_uint64())
      return "decode: accepted an id that is not a string or integer";
    // A valid request needs nothing else here: routing it is the server's.
    return {};
  }
  if (r.error && !is_json_frame(protocol::encode_error(r.id, *r.error)))
    return "decode: the error answer is not a valid JSON frame";
  return {};
}

/// Feeds `data` through a framer in pieces whose sizes the data itself
/// chooses, then checks that the pieces carry exactly the input, that text
/// pieces are valid UTF-8, and (with `parse_frames`, the costly part) that
/// every piece encodes to a valid frame.
inline std::string check_framer(std::string_view data,
                                protocol::framing_mode mode,
                                const protocol::framer_limits& limits,
                                bool parse_frames) {
  protocol::output_framer framer{mode, limits};
  std::vector<protocol::output_piece> pieces;
  std::size_t pos = 0;
  for (std::size_t k = 0; pos < data.size(); ++k) {
    auto n = 1 + static_cast<unsigned char>(data[k % data.size()]) % 23;
    n = std::min<std::size_t>(n, data.size() - pos);
    framer.feed(data.substr(pos, n), pieces);
    pos += n;
  }
  framer.finish(pieces);
  if (framer.pending() != 0)
    return "framer: bytes left after finish()";
  std::string all;
  for (const auto& p : pieces) {
    if (!p.base64 && !protocol::is_valid_utf8(p.data))
      return "framer: a text piece is not valid UTF-8";
    auto bytes = protocol::piece_bytes(p);
    if (bytes.empty() || bytes.size() != p.raw_size())
      return "framer: piece size mismatch";
    if (parse_frames && !is_json_frame(protocol::encode_output(
                            protocol::stream_kind::out, p, 1)))
      return "framer: an output frame is not valid JSON";
    all += bytes;
  }
  if (all != data)
    return "framer: the pieces do not carry the input exactly";
  return {};
}

/// Every check on one input.
inline std::string check_input(std::string_view data) {
  if (auto e = check_decode(data); !e.empty())
    return e;
  protocol::framer_limits small;
  small.max_line_chars = 7;
  small.max_chunk_bytes = 5;
  small.max_pending_bytes = 20;
  // Small limits make every split happen on short inputs; the default
  // limits give few, large pieces, cheap enough to parse back as JSON.
  for (auto mode :
       {protocol::framing_mode::lines, protocol::framing_mode::chunks}) {
    if (auto e = check_framer(data, mode, small, false); !e.empty())
      return e;
    if (auto e = check_framer(data, mode, {}, true); !e.empty())
      return e;
  }
  return {};
}

} // namespace actorexec::fuzz
