#include "actors/released_history.hpp"

#include "actors/varint.hpp"

namespace actorexec {

void released_history::push(std::uint64_t seq, std::uint64_t produced,
                            std::uint64_t through) {
  if (seq != end_ || count_ == 0) {
    runs_.clear();
    open_count_ = 0;
    count_ = 0;
    before_ = through - produced;
  }
  if (open_count_ > 0 && produced != open_size_)
    close_run();
  open_size_ = produced;
  ++open_count_;
  ++count_;
  end_ = seq + 1;
  while (runs_.size() > max_bytes)
    pop_run();
}

void released_history::close_run() {
  put_varint(runs_, open_size_);
  put_varint(runs_, open_count_);
  open_count_ = 0;
}

void released_history::pop_run() {
  auto it = runs_.cbegin();
  auto size = read_varint(it);
  auto n = read_varint(it);
  runs_.erase(runs_.cbegin(), it);
  before_ += size * n;
  count_ -= n;
}

std::optional<std::uint64_t> released_history::first_seq() const {
  if (count_ == 0)
    return std::nullopt;
  return end_ - count_;
}

std::optional<std::uint64_t>
released_history::through(std::uint64_t seq) const {
  auto first = end_ - count_;
  if (count_ == 0 || seq < first || seq >= end_)
    return std::nullopt;
  // Forward from the oldest, a run at a time.
  auto total = before_;
  auto left = seq - first + 1; // events to add
  for (auto it = runs_.cbegin(); it != runs_.cend() && left > 0;) {
    auto size = read_varint(it);
    auto n = read_varint(it);
    auto take = n < left ? n : left;
    total += size * take;
    left -= take;
  }
  return total + open_size_ * left;
}

} // namespace actorexec
