#include "loadtest/verifier.hpp"

#include <algorithm>

namespace actorexec::loadtest {

namespace {

/// A printable excerpt for failure messages.
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    if (c == '\n')
      out += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20)
      out += '?';
    else
      out += c;
  }
  return out;
}

} // namespace

verifier::verifier(const verify_spec& spec)
    : spec_(spec), next_number_(spec.seq_from) {}

bool verifier::generate() {
  pending_.erase(0, pending_pos_);
  pending_pos_ = 0;
  switch (spec_.what) {
  case verify_spec::kind::none:
    return false;
  case verify_spec::kind::text:
    if (text_emitted_)
      return false;
    text_emitted_ = true;
    pending_ += spec_.text;
    return !spec_.text.empty();
  case verify_spec::kind::repeat_line:
    if (lines_emitted_ >= spec_.count)
      return false;
    ++lines_emitted_;
    pending_ += spec_.text;
    pending_ += '\n';
    return true;
  case verify_spec::kind::seq:
    if (next_number_ > spec_.seq_to)
      return false;
    pending_ += std::to_string(next_number_++);
    pending_ += '\n';
    return true;
  }
  return false;
}

void verifier::feed(std::string_view bytes) {
  while (failure_.empty() && !bytes.empty()) {
    if (pending_pos_ == pending_.size() && !generate()) {
      failure_ = "extra output at byte " + std::to_string(matched_) + ": \"" +
                 excerpt(bytes) + "\"";
      return;
    }
    auto n = std::min(bytes.size(), pending_.size() - pending_pos_);
    std::string_view want{pending_.data() + pending_pos_, n};
    if (bytes.substr(0, n) != want) {
      auto at = std::mismatch(want.begin(), want.end(), bytes.begin()).first -
                want.begin();
      failure_ = "mismatch at byte " + std::to_string(matched_ + at) +
                 ": expected \"" + excerpt(want.substr(at)) + "\", got \"" +
                 excerpt(bytes.substr(at)) + "\"";
      return;
    }
    matched_ += n;
    pending_pos_ += n;
    bytes.remove_prefix(n);
  }
}

bool verifier::finish() {
  if (!failure_.empty())
    return false;
  if (pending_pos_ < pending_.size() || generate()) {
    failure_ = "output ended after " + std::to_string(matched_) +
               " bytes; expected " + std::to_string(spec_.expected_bytes());
    return false;
  }
  return true;
}

} // namespace actorexec::loadtest
