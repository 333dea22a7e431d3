#include "actors/event_log.hpp"

// drop_oldest: unsent output replaced by one `stream.gap` in place.

#include <algorithm>
#include <cassert>

#include "actors/event_log_record.hpp"

namespace actorexec {

using namespace record_codec;

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

} // namespace actorexec
