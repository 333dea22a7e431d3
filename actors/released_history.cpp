#include "actors/released_history.hpp"

#include "actors/varint.hpp"

namespace actorexec {

void released_history::push(std::uint64_t seq, std::uint64_t produced,
                            std::uint64_t through) {
  if (seq != end_) {
    bytes_.clear();
    count_ = 0;
  }
  put_varint(bytes_, produced);
  ++count_;
  end_ = seq + 1;
  through_ = through;
  if (count_ > capacity)
    pop_front();
}

void released_history::pop_front() {
  auto it = bytes_.cbegin();
  read_varint(it);
  bytes_.erase(bytes_.cbegin(), it);
  --count_;
}

std::optional<std::uint64_t>
released_history::through(std::uint64_t seq) const {
  auto first = end_ - count_;
  if (count_ == 0 || seq < first || seq >= end_)
    return std::nullopt;
  // Back from the newest: subtract what the events after `seq` produced.
  auto it = bytes_.cbegin();
  for (auto s = first; s <= seq; ++s)
    read_varint(it);
  auto total = through_;
  for (auto s = seq + 1; s < end_; ++s)
    total -= read_varint(it);
  return total;
}

} // namespace actorexec
