#include "net/admission.hpp"

namespace actorexec::net {

admission::admission(std::size_t max_total, std::size_t max_per_address)
    : max_total_(max_total), max_per_address_(max_per_address) {}

admission::slot admission::try_enter(const std::string& address, refusal& why) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (max_total_ > 0 && total_ >= max_total_) {
      why = refusal::total;
      return nullptr;
    }
    // Addresses are counted only under a per-address limit: without one the
    // map would cost a lookup per connection for nothing.
    if (max_per_address_ > 0) {
      auto& n = per_address_[address];
      if (n >= max_per_address_) {
        why = refusal::per_address;
        return nullptr;
      }
      ++n;
    }
    ++total_;
  }
  why = refusal::none;
  // The slot keeps the admission alive: a socket may outlive the listener.
  auto self = shared_from_this();
  // Points at this admission only so the slot tests true.
  return slot{static_cast<void*>(this),
              [self, address](void*) { self->leave(address); }};
}

std::size_t admission::total() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return total_;
}

bool admission::full() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return max_total_ > 0 && total_ >= max_total_;
}

void admission::leave(const std::string& address) {
  std::lock_guard<std::mutex> guard{mtx_};
  --total_;
  if (max_per_address_ == 0)
    return;
  auto i = per_address_.find(address);
  if (i != per_address_.end() && --i->second == 0)
    per_address_.erase(i);
}

} // namespace actorexec::net
