#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace actorexec::net {

/// Counts open WebSockets overall and per remote address, and refuses an
/// upgrade beyond `--max-connections` or `--max-connections-per-ip` (spec
/// section 10; issue 8 item 5). A second one counts connections not yet
/// upgraded against `--max-http-connections`. Thread-safe: upgrades arrive
/// on many strands.
class admission : public std::enable_shared_from_this<admission> {
public:
  /// Limits; 0 means unlimited.
  admission(std::size_t max_total, std::size_t max_per_address);

  /// Why try_enter refused, if it did.
  enum class refusal { none, total, per_address };

  /// A held place; releases it when the last copy goes away.
  using slot = std::shared_ptr<void>;

  /// Takes a place for one connection from `address`, or returns null and
  /// says why in `why`.
  slot try_enter(const std::string& address, refusal& why);

  /// Connections holding a place.
  std::size_t total() const;

  /// True when no further connection would be admitted from a new address.
  bool full() const;

private:
  void leave(const std::string& address);

  const std::size_t max_total_;
  const std::size_t max_per_address_;
  mutable std::mutex mtx_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

} // namespace actorexec::net
