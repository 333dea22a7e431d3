#include "actors/mcp_output.hpp"

#include <algorithm>

#include "protocol/utf8.hpp"

namespace actorexec {

namespace {

/// Longest progress message kept (a line is cut there).
constexpr std::size_t max_line = 200;

} // namespace

mcp_output::mcp_output(std::uint64_t max_bytes,
                       protocol::overflow_policy policy)
    : max_bytes_(std::max<std::uint64_t>(max_bytes, 1)), policy_(policy) {}

void mcp_output::append(protocol::stream_kind stream, std::string_view bytes) {
  if (bytes.empty())
    return;
  produced_[static_cast<int>(stream)] += bytes.size();
  note_lines(bytes);
  // Appended to the last chunk when it is of the same stream: a child that
  // writes in small pieces makes few chunks.
  if (!chunks_.empty() && chunks_.back().stream == stream &&
      chunks_.back().bytes.size() < 64 * 1024)
    chunks_.back().bytes.append(bytes);
  else
    chunks_.push_back(chunk{stream, end_, std::string{bytes}});
  end_ += bytes.size();
  retained_ += bytes.size();
  if (policy_ == protocol::overflow_policy::drop_oldest)
    drop_oldest();
}

void mcp_output::note_lines(std::string_view bytes) {
  auto nl = bytes.rfind('\n');
  if (nl == bytes.npos) {
    if (partial_line_.size() < max_line)
      partial_line_.append(bytes.substr(0, max_line - partial_line_.size()));
    return;
  }
  auto before = bytes.substr(0, nl);
  auto prev = before.rfind('\n');
  if (prev == before.npos) {
    partial_line_.append(before.substr(0, max_line > partial_line_.size()
                                              ? max_line - partial_line_.size()
                                              : 0));
    last_line_ = std::move(partial_line_);
  } else {
    last_line_ = std::string{before.substr(prev + 1, max_line)};
  }
  // A line cut inside a character would not be UTF-8.
  last_line_.resize(protocol::utf8_complete_prefix(last_line_));
  auto rest = bytes.substr(nl + 1);
  partial_line_ = std::string{rest.substr(0, max_line)};
}

void mcp_output::drop_oldest() {
  while (retained_ > max_bytes_ && !chunks_.empty()) {
    auto& front = chunks_.front();
    auto excess = retained_ - max_bytes_;
    auto n = std::min<std::uint64_t>(excess, front.bytes.size());
    front.bytes.erase(0, n);
    front.offset += n;
    retained_ -= n;
    dropped_pending_ += n;
    dropped_total_ += n;
    if (front.bytes.empty())
      chunks_.pop_front();
  }
}

void mcp_output::release(std::uint64_t offset) {
  offset = std::min(offset, end_);
  if (offset <= begin_)
    return;
  // The dropped bytes come first.
  auto dropped_end = begin_ + dropped_pending_;
  dropped_pending_ = offset >= dropped_end ? 0 : dropped_end - offset;
  while (!chunks_.empty() && chunks_.front().offset < offset) {
    auto& front = chunks_.front();
    auto n = std::min<std::uint64_t>(offset - front.offset, front.bytes.size());
    front.bytes.erase(0, n);
    front.offset += n;
    retained_ -= n;
    if (!front.bytes.empty())
      break;
    chunks_.pop_front();
  }
  begin_ = offset;
}

mcp_output::page mcp_output::read(std::uint64_t from, std::uint64_t max_bytes) {
  release(from);
  page p;
  auto pos = std::max(from, begin_);
  auto dropped_end = begin_ + dropped_pending_;
  if (pos < dropped_end) {
    p.dropped = dropped_end - pos;
    pos = dropped_end;
  }
  std::uint64_t taken = 0;
  for (auto& c : chunks_) {
    if (c.offset + c.bytes.size() <= pos)
      continue;
    if (taken >= max_bytes)
      break;
    std::string_view bytes = c.bytes;
    bytes.remove_prefix(pos - c.offset);
    auto n = std::min<std::uint64_t>(bytes.size(), max_bytes - taken);
    if (n < bytes.size()) {
      // Not through a character: end before it, unless that leaves the
      // page empty (a page always makes progress).
      auto cut = protocol::utf8_boundary_before(bytes, n);
      if (cut > 0 || taken > 0)
        n = cut;
    }
    if (n == 0)
      break;
    auto& into = c.stream == protocol::stream_kind::out ? p.out : p.err;
    into.append(bytes.substr(0, n));
    taken += n;
    pos += n;
  }
  p.next = pos;
  return p;
}

std::uint64_t mcp_output::room(std::uint64_t outstanding) const {
  if (policy_ == protocol::overflow_policy::drop_oldest)
    return max_bytes_ > outstanding ? max_bytes_ - outstanding : 0;
  auto used = retained_ + outstanding;
  return used < max_bytes_ ? max_bytes_ - used : 0;
}

} // namespace actorexec
