#pragma once

#include <sys/types.h>

#include <system_error>

#include "actors/launch_plan.hpp"
#include "actors/unique_fd.hpp"

namespace actorexec {

/// A started child: its pid (also its session's and group's id) and a
/// pidfd to wait on (none when the kernel has no pidfd_open).
struct launched_child {
  pid_t pid = -1;
  unique_fd pidfd;
};

/// Starts `plan`'s program through Boost.Process v2's `vfork_launcher` and
/// returns once it has exec'd (the child shares our memory until then:
/// nothing is copied, so a spawn costs the same whatever the server's size).
///
/// In the child, in the launcher's `on_exec_setup` hook, in this order:
/// every signal disposition back to its default (exec keeps ignored ones,
/// and a server started with `&` from a non-interactive shell ignores
/// SIGINT and SIGQUIT); a new session, so the child and all it forks form
/// one group we can signal as one; the plan's descriptors on 0, 1 and 2,
/// and the terminal on 0 made the controlling one if asked; every other
/// descriptor closed but the kept ones; the limits; the user; the
/// directory; an empty signal mask; then the launcher's exec with the
/// plan's argv and environment.
///
/// When a step or the exec fails, the child is reaped and `ec` is the
/// errno of that step (a missing `cwd` is ENOENT, as for the program).
launched_child launch(const launch_plan& plan, std::error_code& ec);

} // namespace actorexec
