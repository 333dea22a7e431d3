#include "actors/event_log.hpp"

#include <algorithm>
#include <cassert>

#include "actors/varint.hpp"

namespace actorexec {

namespace {

// A record: a tag byte, the frame size (4 bytes, little-endian, 0 until
// sent), and for output: the payload length (LEB128), [chunk index, chunk
// count (LEB128)], the payload. A rare record is only tag and frame size.
constexpr std::uint8_t tag_rare = 1;
constexpr std::uint8_t tag_stderr = 2;
constexpr std::uint8_t tag_base64 = 4;
constexpr std::uint8_t tag_truncated = 8;
constexpr std::uint8_t tag_chunked = 16; // a piece of a split line
constexpr std::size_t frame_size_bytes = 4;

/// Reads a record's fields in order. It walks an iterator: indexing a
/// deque finds the block of every byte anew, and records are parsed several
/// times in each event's life.
struct reader {
  std::deque<char>::const_iterator it;
  std::uint8_t byte() { return static_cast<std::uint8_t>(*it++); }
  std::uint64_t varint() { return read_varint(it); }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k)
      v |= static_cast<std::uint32_t>(byte()) << (8 * k);
    return v;
  }
};

template <class Out>
void put_u32(Out& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(v >> (8 * i))));
}

protocol::stream_kind stream_of(std::uint8_t tag) {
  return (tag & tag_stderr) ? protocol::stream_kind::err
                            : protocol::stream_kind::out;
}

} // namespace

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

void event_log::splice(std::uint64_t pos, std::uint64_t end,
                       const std::string& with) {
  assert(pos >= boundary_.pos);
  auto first = bytes_.begin() + static_cast<std::ptrdiff_t>(index(pos));
  first = bytes_.erase(first, first + static_cast<std::ptrdiff_t>(end - pos));
  bytes_.insert(first, with.begin(), with.end());
}

event_log::dropped event_log::drop_oldest_unsent(const drop_more& more) {
  auto pos = boundary_.pos;
  auto rare = boundary_.rare;
  std::optional<std::size_t> gap_before; // an unsent gap right before
  auto is_side_output = [this](const record& r, std::size_t i) {
    return r.rare() && rare_[i].ev.kind == event_kind::output;
  };
  // The oldest unsent output, after any other events.
  std::size_t n = 0;
  for (; n < unsent_; ++n) {
    auto r = parse(pos);
    if (!r.rare() || is_side_output(r, rare))
      break;
    bool gap = rare_[rare].ev.kind == event_kind::gap;
    gap_before = gap ? std::optional<std::size_t>{rare} : std::nullopt;
    ++rare;
    pos = r.end;
  }
  dropped out;
  if (n == unsent_)
    return out;
  auto first = parse(pos);
  auto stream = is_side_output(first, rare) ? rare_[rare].ev.stream
                                            : stream_of(first.tag);
  bool merge = gap_before && rare_[*gap_before].ev.stream == stream;
  // The run: output of the same stream, while `more` says so.
  auto end = pos;
  std::size_t side = 0;
  for (; n < unsent_; ++n) {
    // A new gap stands in for the first event dropped.
    auto removed = out.frames - (merge || out.frames == 0 ? 0 : 1);
    if (!more(out.raw, removed))
      break;
    auto r = parse(end);
    bool side_output = is_side_output(r, rare + side);
    if (r.rare() && !side_output)
      break;
    if ((side_output ? rare_[rare + side].ev.stream : stream_of(r.tag)) !=
        stream)
      break;
    out.raw += side_output ? rare_[rare + side].raw_size : r.raw_size;
    ++out.frames;
    side += side_output ? 1 : 0;
    end = r.end;
  }
  if (out.frames == 0)
    return out;
  auto at = rare_.begin() + static_cast<std::ptrdiff_t>(rare);
  rare_.erase(at, at + static_cast<std::ptrdiff_t>(side));
  if (merge) {
    auto& gap = rare_[*gap_before].ev;
    gap.gap_bytes += out.raw;
    gap.gap_frames += static_cast<std::uint32_t>(out.frames);
    splice(pos, end, {});
    unsent_ -= out.frames;
  } else {
    retained_event gap;
    gap.kind = event_kind::gap;
    gap.stream = stream;
    gap.gap_bytes = out.raw;
    gap.gap_frames = static_cast<std::uint32_t>(out.frames);
    rare_.insert(rare_.begin() + static_cast<std::ptrdiff_t>(rare),
                 rare_entry{std::move(gap), {}, {}, 0});
    splice(pos, end, rare_record(0));
    unsent_ -= out.frames - 1;
  }
  return out;
}

void event_log::append_side(std::string& out, std::size_t i, std::uint64_t seq,
                            const rare_encoder* encode) {
  auto& entry = rare_[i];
  if (entry.ev.kind == event_kind::output)
    return protocol::append_output(out, entry.ev.stream, entry.piece, seq);
  if (encode)
    entry.frame = (*encode)(entry.ev, seq);
  out += entry.frame;
}

event_log::sent_event event_log::send_unsent(std::uint64_t seq,
                                             const rare_encoder& encode,
                                             std::string& frames) {
  assert(caught_up() && has_unsent());
  if (sent_ == 0)
    first_seq_ = seq;
  assert(seq == first_seq_ + sent_);
  auto r = parse(boundary_.pos);
  sent_event out;
  auto before = frames.size();
  if (r.rare()) {
    auto& entry = rare_[boundary_.rare];
    append_side(frames, boundary_.rare, seq, &encode);
    out.output = entry.ev.kind == event_kind::output;
    out.stream = entry.ev.stream;
  } else {
    append_output(frames, r, seq);
    out.output = true;
    out.stream = stream_of(r.tag);
  }
  out.size = frames.size() - before;
  set_frame_size(boundary_.pos, out.size);
  boundary_ = past(boundary_, r);
  send_ = boundary_;
  ++sent_;
  --unsent_;
  return out;
}

std::size_t event_log::resend(std::string& frames) {
  assert(!caught_up());
  auto r = parse(send_.pos);
  auto seq = first_seq_ + send_.index;
  auto before = frames.size();
  if (r.rare())
    append_side(frames, send_.rare, seq, nullptr);
  else
    append_output(frames, r, seq);
  send_ = past(send_, r);
  return frames.size() - before;
}

std::uint64_t event_log::advance_written(std::uint64_t bytes) {
  std::uint64_t used = 0;
  while (written_.index < send_.index) {
    auto r = parse(written_.pos);
    if (r.frame_size > bytes - used)
      break;
    used += r.frame_size;
    written_ = past(written_, r);
  }
  return used;
}

event_log::popped event_log::pop_front() {
  assert(sent_ > 0);
  auto r = parse(front_);
  popped out{describe(r, 0), 0};
  produced_before_ += out.event.produced;
  out.produced_through = produced_before_;
  if (r.rare())
    rare_.pop_front();
  front_ = r.end;
  --sent_;
  ++first_seq_;
  for (auto* c : {&send_, &written_, &boundary_}) {
    if (c->index > 0) {
      --c->index;
      c->rare -= r.rare() ? 1 : 0;
    } else {
      *c = cursor{0, front_, 0};
    }
  }
  bytes_.erase(bytes_.begin(),
               bytes_.begin() + static_cast<std::ptrdiff_t>(index(front_)));
  base_ = front_;
  return out;
}

std::optional<std::uint64_t>
event_log::produced_through(std::uint64_t seq) const {
  if (sent_ == 0 || seq < first_seq_ || seq - first_seq_ >= sent_)
    return std::nullopt;
  auto total = produced_before_;
  cursor c{0, front_, 0};
  while (c.index <= seq - first_seq_) {
    total += describe(parse(c.pos), c.rare).produced;
    advance(c);
  }
  return total;
}

std::uint64_t event_log::copy_sent(std::uint64_t from_seq,
                                   std::size_t max_bytes, std::string& out,
                                   std::vector<std::uint32_t>& sizes) const {
  if (sent_ == 0)
    return from_seq;
  cursor c{0, front_, 0};
  while (c.index < sent_ && first_seq_ + c.index < from_seq)
    advance(c);
  auto start = out.size();
  while (c.index < sent_ && out.size() - start < max_bytes) {
    auto r = parse(c.pos);
    auto seq = first_seq_ + c.index;
    auto before = out.size();
    if (!r.rare())
      append_output(out, r, seq);
    else if (auto& entry = rare_[c.rare]; entry.ev.kind == event_kind::output)
      protocol::append_output(out, entry.ev.stream, entry.piece, seq);
    else
      out += entry.frame; // a rare event keeps its frame once sent
    sizes.push_back(static_cast<std::uint32_t>(out.size() - before));
    c = past(c, r);
  }
  return first_seq_ + c.index;
}

} // namespace actorexec
