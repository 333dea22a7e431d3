#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/messages.hpp"

namespace actorexec::protocol {

/// The payload of one `process.output` frame.
struct output_piece {
  /// UTF-8 text, or base64 text when `base64` is set.
  std::string data;
  /// The raw bytes were not valid UTF-8 and `data` holds their base64.
  bool base64 = false;
  /// More pieces of the same line follow.
  bool truncated = false;
  /// Position of this piece within its line (0 for an unsplit line).
  std::uint32_t chunk_index = 0;
  /// Number of pieces the line was split into (1 for an unsplit line).
  std::uint32_t total_chunks = 1;
  /// How many bytes of the child's output this piece carries.
  std::size_t raw_size() const;
};

/// The bytes a piece carries: `data` itself, or its base64 decoded.
std::string piece_bytes(const output_piece& piece);

/// Limits of the framer; the defaults are the protocol's.
struct framer_limits {
  /// Longest line sent as one frame, in characters (bytes where the line
  /// is not valid UTF-8); longer lines are split into chunks.
  std::size_t max_line_chars = 65536;
  /// Largest frame in `chunks` mode, in bytes.
  std::size_t max_chunk_bytes = 65536;
  /// Most bytes of one unterminated line held back. A longer line is sent
  /// in groups of chunks whose every piece has `truncated` set, so memory
  /// stays bounded whatever the child prints.
  std::size_t max_pending_bytes = 4 * 1024 * 1024;
};

/// Cuts one output stream into frames (spec section 5). Never alters or
/// loses a byte, never splits a UTF-8 character across frames; bytes that
/// are not valid UTF-8 go out base64-encoded.
class output_framer {
public:
  explicit output_framer(framing_mode mode, framer_limits limits = {});

  /// Appends to `out` every piece that `bytes` completes.
  void feed(std::string_view bytes, std::vector<output_piece>& out);

  /// End of stream: appends everything still held back.
  void finish(std::vector<output_piece>& out);

  /// Bytes held back, waiting for a newline or the rest of a character.
  std::size_t pending() const { return pending_.size(); }

private:
  void feed_lines(std::string_view bytes, std::vector<output_piece>& out);
  void feed_chunks(std::string_view bytes, std::vector<output_piece>& out);
  void emit_line(std::string_view line, bool continues,
                 std::vector<output_piece>& out);
  void emit_chunks(bool at_end, std::vector<output_piece>& out);
  /// Sends part of an unterminated line held back beyond max_pending_bytes.
  void flush_long_line(std::vector<output_piece>& out);
  /// Empties the held-back bytes, releasing a large buffer.
  void release_pending();

  framing_mode mode_;
  framer_limits limits_;
  std::string pending_;
};

} // namespace actorexec::protocol
