#include "protocol/framer.hpp"

#include <algorithm>
#include <cstring>

#include "protocol/base64.hpp"
#include "protocol/utf8.hpp"

namespace actorexec::protocol {

namespace {

/// Capacity above which the line buffer is released once a line is out.
constexpr std::size_t keep_capacity = 64 * 1024;

/// A piece carrying `bytes`: as text when they are valid UTF-8, else as
/// base64 (the bytes are never replaced).
output_piece make_piece(std::string_view bytes) {
  output_piece piece;
  if (is_valid_utf8(bytes)) {
    piece.data.assign(bytes.data(), bytes.size());
  } else {
    piece.data = base64_encode(bytes);
    piece.base64 = true;
  }
  return piece;
}

/// Position just past the first newline of `s`, or npos.
std::size_t line_end(std::string_view s) {
  // An empty view may have a null data(), which memchr must not see.
  if (s.empty())
    return std::string_view::npos;
  auto p = static_cast<const char*>(std::memchr(s.data(), '\n', s.size()));
  return p == nullptr ? std::string_view::npos : p - s.data() + 1;
}

/// Cuts the first `end` bytes of `s` into pieces of at most `max_bytes`,
/// each ending on a character boundary.
void cut_chunks(std::string_view s, std::size_t end, std::size_t max_bytes,
                std::vector<output_piece>& out) {
  s = s.substr(0, end);
  std::size_t pos = 0;
  while (pos < end) {
    auto cut = std::min(pos + max_bytes, end);
    if (cut < end) {
      // max_bytes >= 4, so a character never forces an empty piece.
      if (auto b = utf8_boundary_before(s, cut); b > pos)
        cut = b;
    }
    out.push_back(make_piece(s.substr(pos, cut - pos)));
    pos = cut;
  }
}

} // namespace

std::size_t output_piece::raw_size() const {
  if (!base64)
    return data.size();
  return base64_decoded_size(data);
}

std::string piece_bytes(const output_piece& piece) {
  if (!piece.base64)
    return piece.data;
  return base64_decode(piece.data).value_or(std::string{});
}

output_framer::output_framer(framing_mode mode, framer_limits limits)
    : mode_(mode), limits_(limits) {
  // A piece must be able to hold at least one character (up to 4 bytes).
  limits_.max_line_chars = std::max<std::size_t>(limits_.max_line_chars, 1);
  limits_.max_chunk_bytes = std::max<std::size_t>(limits_.max_chunk_bytes, 4);
}

void output_framer::feed(std::string_view bytes,
                         std::vector<output_piece>& out) {
  if (bytes.empty())
    return;
  if (mode_ == framing_mode::chunks)
    feed_chunks(bytes, out);
  else
    feed_lines(bytes, out);
}

void output_framer::feed_chunks(std::string_view bytes,
                                std::vector<output_piece>& out) {
  if (!pending_.empty()) {
    pending_.append(bytes);
    emit_chunks(false, out);
    return;
  }
  // Common case: nothing held back, so cut straight from the caller's
  // buffer and keep only an incomplete trailing character.
  auto end = utf8_complete_prefix(bytes);
  cut_chunks(bytes, end, limits_.max_chunk_bytes, out);
  pending_.assign(bytes.substr(end));
}

void output_framer::feed_lines(std::string_view bytes,
                               std::vector<output_piece>& out) {
  // Complete the held-back line first, then emit every complete line
  // straight from `bytes`, then hold back the unterminated rest.
  if (!pending_.empty()) {
    auto n = line_end(bytes);
    if (n == std::string_view::npos) {
      pending_.append(bytes);
      bytes = {};
    } else {
      pending_.append(bytes.substr(0, n));
      emit_line(pending_, false, out);
      release_pending();
      bytes.remove_prefix(n);
    }
  }
  for (auto n = line_end(bytes); n != std::string_view::npos;
       n = line_end(bytes)) {
    emit_line(bytes.substr(0, n), false, out);
    bytes.remove_prefix(n);
  }
  pending_.append(bytes);
  if (pending_.size() > limits_.max_pending_bytes)
    flush_long_line(out);
}

void output_framer::release_pending() {
  pending_.clear();
  // One long line must not pin megabytes for the rest of the stream.
  if (pending_.capacity() > keep_capacity)
    std::string{}.swap(pending_);
}

void output_framer::finish(std::vector<output_piece>& out) {
  if (mode_ == framing_mode::chunks)
    emit_chunks(true, out);
  else if (!pending_.empty())
    emit_line(pending_, false, out);
  release_pending();
}

void output_framer::emit_line(std::string_view line, bool continues,
                              std::vector<output_piece>& out) {
  // The newline counts toward the limit, as it did in the original service
  // (the length of the line as read): max_line_chars characters plus "\n"
  // make two frames, the second holding just the newline.
  // Fast path: fewer bytes than the limit means fewer characters too.
  if (line.size() <= limits_.max_line_chars) {
    out.push_back(make_piece(line));
    out.back().truncated = continues;
    return;
  }
  auto first = out.size();
  std::size_t pos = 0;
  do {
    auto n = utf8_offset_of_char(line.substr(pos), limits_.max_line_chars);
    out.push_back(make_piece(line.substr(pos, n)));
    pos += n;
  } while (pos < line.size());
  auto total = static_cast<std::uint32_t>(out.size() - first);
  for (std::uint32_t i = 0; i < total; ++i) {
    auto& piece = out[first + i];
    piece.chunk_index = i;
    piece.total_chunks = total;
    piece.truncated = continues || i + 1 < total;
  }
}

void output_framer::emit_chunks(bool at_end, std::vector<output_piece>& out) {
  auto end = at_end ? pending_.size() : utf8_complete_prefix(pending_);
  cut_chunks(pending_, end, limits_.max_chunk_bytes, out);
  pending_.erase(0, end);
}

void output_framer::flush_long_line(std::vector<output_piece>& out) {
  // Send whole pieces of max_line_chars characters and keep the rest (less
  // than one piece, plus an incomplete trailing character) for the next
  // group, so the frames of a long line look alike whatever the reads were.
  std::string_view complete{pending_.data(), utf8_complete_prefix(pending_)};
  auto whole = utf8_length(complete) / limits_.max_line_chars;
  auto end = whole == 0 ? complete.size()
                        : utf8_offset_of_char(complete,
                                              whole * limits_.max_line_chars);
  if (end == 0)
    return;
  emit_line(complete.substr(0, end), true, out);
  pending_.erase(0, end);
}

} // namespace actorexec::protocol
