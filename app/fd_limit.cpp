#include "app/fd_limit.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "actors/log.hpp"

namespace actorexec::app {

std::optional<std::uint64_t> fd_need(const config& cfg) {
  if (cfg.max_connections == 0 || cfg.max_http_connections == 0)
    return std::nullopt;
  std::uint64_t children = 0, need = fd_margin;
  // Absurd limits that overflow need as much as unlimited ones.
  if (__builtin_mul_overflow(fds_per_child, cfg.actors.max_sessions,
                             &children) ||
      __builtin_add_overflow(need, children, &need) ||
      __builtin_add_overflow(need, cfg.max_connections, &need) ||
      __builtin_add_overflow(need, cfg.max_http_connections, &need))
    return std::nullopt;
  return need;
}

void ensure_fd_limit(const config& cfg) {
  struct rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return;
  auto need = fd_need(cfg);
  // Only as high as needed, not to the hard limit: children inherit the
  // soft limit, and some close every descriptor up to it before exec.
  auto target = need ? std::min<rlim_t>(*need, lim.rlim_max) : lim.rlim_max;
  if (lim.rlim_cur < target) {
    auto from = lim.rlim_cur;
    lim.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &lim) == 0)
      log::info("fd_limit_raised", {{"from", from}, {"to", target}});
    else
      log::warn(
          "fd_limit_not_raised",
          {{"soft", from}, {"to", target}, {"error", std::strerror(errno)}});
  }
  if (need && lim.rlim_max < *need)
    log::warn("fd_limit_low",
              {{"need", *need},
               {"hard_limit", lim.rlim_max},
               {"max_connections", cfg.max_connections},
               {"max_http_connections", cfg.max_http_connections},
               {"max_sessions", cfg.actors.max_sessions},
               {"fds_per_child", fds_per_child},
               {"margin", fd_margin}});
}

} // namespace actorexec::app
