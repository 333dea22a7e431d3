#include "actors/event_log.hpp"

// The cursors: sending, resending, writing and forgetting events.

#include <algorithm>
#include <cassert>

#include "actors/event_log_record.hpp"

namespace actorexec {

using namespace record_codec;

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
