#pragma once

// The checks of the framer fuzz target on one structured input; shared by the
// libFuzzer target (which aborts on a violation) and the protocol_fuzz_replay
// ctest (which replays its corpus and regressions with any compiler).
//
// decode_fuzz already feeds every input through the framer with two fixed
// sets of limits. Here the input chooses everything, so that the corners
// (limits of 1 character or 4 bytes, reads of 1 byte, a line held back just
// past max_pending_bytes) are reached on purpose:
//
//   byte 0       mode (bit 0: lines or chunks)
//   byte 1       max_line_chars   (1 + b % 64, or the default when b >= 0xf0)
//   byte 2       max_chunk_bytes  (b % 64, clamped to 4 by the framer, or
//                                  the default when b >= 0xf0)
//   byte 3       max_pending_bytes (b % 128, or the default when b >= 0xf0)
//   byte 4       n, the number of read sizes that follow (n % 16)
//   n bytes      read sizes (0 means 1), used in turn
//   the rest     the child's output

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "decode_fuzz_check.hpp"

namespace actorexec::fuzz {

/// One framer input, parsed from the fuzzer's bytes.
struct framer_input {
  protocol::framing_mode mode = protocol::framing_mode::lines;
  protocol::framer_limits limits;
  std::vector<std::size_t> reads;
  std::string_view data;
};

inline framer_input parse_framer_input(std::string_view in) {
  framer_input r;
  auto byte = [&](std::size_t i) {
    return i < in.size() ? static_cast<unsigned char>(in[i]) : 0u;
  };
  r.mode = (byte(0) & 1) ? protocol::framing_mode::chunks
                         : protocol::framing_mode::lines;
  if (byte(1) < 0xf0)
    r.limits.max_line_chars = 1 + byte(1) % 64;
  if (byte(2) < 0xf0)
    r.limits.max_chunk_bytes = byte(2) % 64;
  if (byte(3) < 0xf0)
    r.limits.max_pending_bytes = byte(3) % 128;
  std::size_t n = byte(4) % 16;
  std::size_t pos = 5;
  for (std::size_t i = 0; i < n && pos < in.size(); ++i, ++pos)
    r.reads.push_back(std::max<std::size_t>(1, byte(pos)));
  if (r.reads.empty())
    r.reads.push_back(in.size()); // one read of everything
  r.data = pos < in.size() ? in.substr(pos) : std::string_view{};
  return r;
}

/// Runs `in` through one framer with its read sizes. Checks, besides what
/// check_framer does (no byte lost or altered, text pieces valid UTF-8):
/// - memory stays bounded: after every read the held-back bytes stay under
///   max_pending_bytes, or under one piece plus an incomplete character
///   after a long line was flushed (lines), or under one incomplete
///   character (chunks);
/// - no piece is empty or over its limit;
/// - chunk fields: indices run 0..total-1 within a group, `truncated` on
///   every piece of a group but the last, and a piece that is not truncated
///   ends its line (lines mode) unless it is the very last piece;
/// - in lines mode the cut positions do not depend on the read sizes:
///   the same bytes read at once give the same pieces (when
///   max_pending_bytes holds a whole piece, see below).
inline std::string check_framer_input(const framer_input& in) {
  using protocol::framing_mode;
  auto data = in.data;
  auto limits = in.limits;
  // The framer's own clamps, to state the bounds in the same terms.
  auto line_chars = std::max<std::size_t>(limits.max_line_chars, 1);
  auto chunk_bytes = std::max<std::size_t>(limits.max_chunk_bytes, 4);
  protocol::output_framer framer{in.mode, limits};
  std::vector<protocol::output_piece> pieces;
  std::size_t pos = 0;
  for (std::size_t k = 0; pos < data.size(); ++k) {
    auto n = std::min(in.reads[k % in.reads.size()], data.size() - pos);
    framer.feed(data.substr(pos, n), pieces);
    pos += n;
    auto held = framer.pending();
    if (in.mode == framing_mode::chunks) {
      if (held > 3)
        return "framer: chunks mode holds back more than a character";
    } else if (held > limits.max_pending_bytes && held > 4 * line_chars + 3) {
      return "framer: lines mode holds back more than its bound";
    }
  }
  framer.finish(pieces);
  if (framer.pending() != 0)
    return "framer: bytes left after finish()";
  std::string all;
  std::uint32_t expect_index = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto& p = pieces[i];
    auto bytes = protocol::piece_bytes(p);
    if (bytes.empty() || bytes.size() != p.raw_size())
      return "framer: empty piece or size mismatch";
    if (!p.base64 && !protocol::is_valid_utf8(p.data))
      return "framer: a text piece is not valid UTF-8";
    if (in.mode == framing_mode::chunks) {
      if (bytes.size() > chunk_bytes)
        return "framer: a chunk over max_chunk_bytes";
      if (p.chunk_index != 0 || p.total_chunks != 1 || p.truncated)
        return "framer: chunk fields set in chunks mode";
    } else {
      if (protocol::utf8_length(bytes) > line_chars)
        return "framer: a piece over max_line_chars";
      if (p.total_chunks == 0 || p.chunk_index != expect_index)
        return "framer: chunk_index out of sequence";
      bool last_of_group = p.chunk_index + 1 == p.total_chunks;
      if (!last_of_group && !p.truncated)
        return "framer: truncated unset inside a group";
      expect_index = last_of_group ? 0 : expect_index + 1;
      bool last = i + 1 == pieces.size();
      if (!p.truncated && bytes.back() != '\n' && !last)
        return "framer: a line ends without its newline";
    }
    all += bytes;
  }
  if (expect_index != 0)
    return "framer: a group left unfinished";
  if (all != data)
    return "framer: the pieces do not carry the input exactly";
  // The cuts of a long line are whole groups of max_line_chars only when
  // max_pending_bytes can hold such a group (4 bytes a character, plus an
  // incomplete one); below that, flush_long_line sends what it has, to keep
  // memory bounded. The server's limits (the defaults, 4 MiB and 65536) are
  // far above it. Regression: framer/read_size_cuts_small_pending.
  bool cuts_fixed = limits.max_pending_bytes >= 4 * line_chars + 3;
  if (in.mode == framing_mode::lines && in.reads.size() > 1 && cuts_fixed) {
    protocol::output_framer whole{in.mode, limits};
    std::vector<protocol::output_piece> reference;
    whole.feed(data, reference);
    whole.finish(reference);
    auto same_cut = [](const protocol::output_piece& a,
                       const protocol::output_piece& b) {
      return a.data == b.data && a.base64 == b.base64;
    };
    if (!std::equal(pieces.begin(), pieces.end(), reference.begin(),
                    reference.end(), same_cut))
      return "framer: the cuts depend on the read sizes";
  }
  return {};
}

inline std::string check_framer_bytes(std::string_view in) {
  return check_framer_input(parse_framer_input(in));
}

} // namespace actorexec::fuzz
