#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "actors/messages.hpp"
#include "actors/run_as.hpp"

namespace actorexec {

/// Everything a child is started with, built once in the parent: every
/// string and vector is allocated here, so that the child, which shares the
/// server's memory until exec, only makes system calls (`launch`). A kind of
/// child adds what is its own: a PTY child puts the terminal's slave on
/// `stdio` and sets `controlling_tty`; a wrapped child (bwrap) puts the
/// wrapper in `exe` and its arguments before `argv`.
struct launch_plan {
  /// The program to exec: a path (a name without '/' was found in PATH).
  std::string exe;
  /// Its arguments, argv[0] included (the resolved path, as exec'd).
  std::vector<std::string> argv;
  /// Its whole environment, as "NAME=value".
  std::vector<std::string> env;
  /// The directory it starts in; none: the server's.
  std::optional<std::string> cwd;
  /// The user it runs as; null: the server's.
  std::shared_ptr<const run_as_user> run_as;
  /// Resource limits, (RLIMIT_*, value): soft and hard, CPU's hard one
  /// second above the soft.
  std::vector<std::pair<int, std::uint64_t>> rlimits;
  /// The descriptors that become the child's stdin, stdout and stderr. The
  /// caller owns them; `launch` only duplicates them in the child.
  std::array<int, 3> stdio{{-1, -1, -1}};
  /// Descriptors the child keeps under their numbers; every other one
  /// above stderr is closed.
  std::vector<int> keep_fds;
  /// After the new session, stdin (a terminal) becomes the controlling
  /// terminal (TIOCSCTTY): what a PTY child needs for job control.
  bool controlling_tty = false;
};

/// Fills `plan` from `spec` (all but `stdio` and `keep_fds`, which belong to
/// the kind of child): the program found in PATH, the arguments, the
/// filtered environment, the directory, the limits and the user. ENOENT
/// when the program is not found.
std::error_code make_launch_plan(const spawn_spec& spec, launch_plan& plan);

/// The executable or `spec`'s command under the shell, argv[0] first as
/// given (not yet resolved).
std::vector<std::string> child_argv(const spawn_spec& spec);

/// The child's environment: `server_env` (null-terminated, the server's)
/// without secrets, with HOME, USER and LOGNAME of the `--run-as` user,
/// plus the request's additions (which win over both).
std::vector<std::string> child_environment(const spawn_spec& spec,
                                           const char* const* server_env);

/// `name` itself when it has a '/'; else the first regular executable file
/// `dir/name` for `dir` in `path` (':'-separated); empty when none.
std::string find_executable(const std::string& name, const char* path);

} // namespace actorexec
