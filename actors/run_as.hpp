#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace actorexec {

/// The account children run as (`--run-as`), resolved once at start: after
/// fork only async-signal-safe calls are allowed, so nothing is looked up
/// there.
struct run_as_user {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  /// Supplementary groups (getgrouplist), set with setgroups.
  std::vector<gid_t> groups;
  /// HOME of the child.
  std::string home;
};

/// Resolves the user `name` (uid, gid, supplementary groups, home) into
/// `user`. Fails when the server is not root, or the user is unknown or
/// root. Returns an error message, or nothing on success.
std::optional<std::string>
resolve_run_as(const std::string& name,
               std::shared_ptr<const run_as_user>& user);

/// Becomes `user` in a child before exec: supplementary groups, group, user,
/// in that order, then checks that root cannot be regained. Async-signal-
/// safe: plain system calls on what `resolve_run_as` prepared.
std::error_code drop_privileges(const run_as_user& user);

} // namespace actorexec
