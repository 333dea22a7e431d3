#include "actors/event_log.hpp"

// The record codec: appending, parsing and describing packed records.

#include <algorithm>
#include <cassert>

#include "actors/event_log_record.hpp"

namespace actorexec {

using namespace record_codec;

bool event_log::record::rare() const noexcept {
  return (tag & tag_rare) != 0;
}

void event_log::push_output(protocol::stream_kind stream,
                            protocol::output_piece piece) {
  if (piece.data.size() >= side_payload_bytes) {
    retained_event ev;
    ev.kind = event_kind::output;
    ev.stream = stream;
    auto raw = piece.raw_size();
    rare_.push_back({std::move(ev), {}, std::move(piece), raw});
    auto record = rare_record(0);
    bytes_.insert(bytes_.end(), record.begin(), record.end());
    ++unsent_;
    return;
  }
  bool chunked = piece.chunk_index != 0 || piece.total_chunks != 1;
  std::uint8_t tag = stream == protocol::stream_kind::err ? tag_stderr : 0;
  tag |= piece.base64 ? tag_base64 : 0;
  tag |= piece.truncated ? tag_truncated : 0;
  tag |= chunked ? tag_chunked : 0;
  bytes_.push_back(static_cast<char>(tag));
  put_u32(bytes_, 0);
  put_varint(bytes_, piece.data.size());
  if (chunked) {
    put_varint(bytes_, piece.chunk_index);
    put_varint(bytes_, piece.total_chunks);
  }
  bytes_.insert(bytes_.end(), piece.data.begin(), piece.data.end());
  ++unsent_;
}

std::string event_log::rare_record(std::uint32_t frame_size) const {
  std::string out(1, static_cast<char>(tag_rare));
  put_u32(out, frame_size);
  return out;
}

void event_log::push_rare(retained_event ev) {
  rare_.push_back({std::move(ev), {}, {}, 0});
  auto record = rare_record(0);
  bytes_.insert(bytes_.end(), record.begin(), record.end());
  ++unsent_;
}

event_log::record event_log::parse(std::uint64_t pos) const {
  record r;
  auto start = bytes_.begin() + static_cast<std::ptrdiff_t>(index(pos));
  reader in{start};
  r.tag = in.byte();
  r.frame_size = in.u32();
  if (!r.rare()) {
    r.data_len = in.varint();
    if (r.tag & tag_chunked) {
      r.chunk_index = static_cast<std::uint32_t>(in.varint());
      r.total_chunks = static_cast<std::uint32_t>(in.varint());
    }
  }
  r.data_pos = pos + static_cast<std::uint64_t>(in.it - start);
  r.end = r.data_pos + r.data_len;
  r.raw_size = r.data_len;
  if (r.tag & tag_base64) {
    // Three bytes per four characters, less the padding at the end.
    std::uint64_t padding = 0;
    for (std::uint64_t k = 1; k <= std::min<std::uint64_t>(2, r.data_len); ++k)
      padding += bytes_[index(r.end - k)] == '=' ? 1 : 0;
    r.raw_size = r.data_len / 4 * 3 - padding;
  }
  return r;
}

event_log::info event_log::describe(const record& r, std::size_t rare) const {
  info i;
  i.frame_size = r.frame_size;
  if (!r.rare()) {
    i.raw_size = i.produced = r.raw_size;
  } else if (rare_[rare].ev.kind == event_kind::output) {
    i.raw_size = i.produced = rare_[rare].raw_size;
  } else if (rare_[rare].ev.kind == event_kind::gap) {
    i.produced = rare_[rare].ev.gap_bytes;
  }
  return i;
}

void event_log::advance(cursor& c) const {
  auto r = parse(c.pos);
  c = past(c, r);
}

void event_log::append_output(std::string& out, const record& r,
                              std::uint64_t seq) const {
  protocol::output_piece piece;
  auto first = bytes_.begin() + static_cast<std::ptrdiff_t>(index(r.data_pos));
  // std::copy moves a deque's bytes node by node; assign() would go byte by
  // byte.
  piece.data.resize(static_cast<std::size_t>(r.data_len));
  std::copy(first, first + static_cast<std::ptrdiff_t>(r.data_len),
            piece.data.data());
  piece.base64 = (r.tag & tag_base64) != 0;
  piece.truncated = (r.tag & tag_truncated) != 0;
  piece.chunk_index = r.chunk_index;
  piece.total_chunks = r.total_chunks;
  protocol::append_output(out, stream_of(r.tag), piece, seq);
}

void event_log::set_frame_size(std::uint64_t pos, std::size_t size) {
  auto i = index(pos) + 1; // after the tag
  for (std::size_t k = 0; k < frame_size_bytes; ++k)
    bytes_[i + k] =
        static_cast<char>(static_cast<std::uint8_t>(size >> (8 * k)));
}

} // namespace actorexec
