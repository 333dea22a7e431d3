#include "actors/launch.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

// Boost.Process 1.81's v2 headers use these without including them.
#include <type_traits>

#include <boost/optional.hpp>
#include <boost/type_traits.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/process/v2/process.hpp>

#include <boost/process/v2/posix/default_launcher.hpp>
#include <boost/process/v2/posix/vfork_launcher.hpp>

namespace actorexec {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace {

/// Every disposition back to SIG_DFL: exec resets handled signals itself,
/// but keeps ignored ones. (glibc refuses its own internal signals; exec
/// resets those, as they are handled.)
void default_dispositions() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP)
      ::sigaction(sig, &dfl, nullptr);
}

/// Puts `fds` on 0, 1 and 2. Any of them that is itself below 3 is first
/// copied above, so that installing one cannot overwrite another not yet
/// installed (which `bp::process_stdio`'s dup2 in order would). The copies
/// are closed with the rest.
int install_stdio(const std::array<int, 3>& fds) {
  int from[3];
  for (int i = 0; i < 3; ++i) {
    from[i] = fds[i] >= 3 ? fds[i] : ::fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    if (from[i] < 0)
      return errno;
  }
  for (int i = 0; i < 3; ++i)
    if (::dup2(from[i], i) < 0)
      return errno;
  return 0;
}

/// Closes every descriptor above stderr but `keep`: without this a child
/// would inherit the server's sockets and pipes, and a client's socket
/// would stay open as long as any child lives. Boost 1.81's own close_all,
/// which the launcher runs after the hook, skips the gaps between
/// whitelisted descriptors (it compares an entry with itself), so it closes
/// only those above the highest. `keep` is not sorted here: sorting is the
/// launcher's, and this loop needs no copy.
void close_inherited(const std::vector<int>& keep) {
  unsigned int from = 3;
  while (true) {
    // The smallest kept descriptor at or above `from`.
    unsigned int next = ~0U;
    for (int fd : keep)
      if (fd >= 0 && static_cast<unsigned int>(fd) >= from &&
          static_cast<unsigned int>(fd) < next)
        next = static_cast<unsigned int>(fd);
    if (next == ~0U)
      break;
    if (next > from)
      ::close_range(from, next - 1, 0);
    from = next + 1;
  }
  ::close_range(from, ~0U, 0);
}

int set_limits(const std::vector<std::pair<int, std::uint64_t>>& limits) {
  for (auto& [resource, value] : limits) {
    struct rlimit lim;
    lim.rlim_cur = lim.rlim_max = static_cast<rlim_t>(value);
    // CPU: SIGXCPU at the soft limit (so the exit says why), SIGKILL only a
    // second later if the child ignores it.
    if (resource == RLIMIT_CPU)
      lim.rlim_max = lim.rlim_cur + 1;
    if (::setrlimit(resource, &lim) < 0)
      return errno;
  }
  return 0;
}

/// Every step before exec; the errno of the first that fails. `keep`: the
/// launcher's whitelist (0, 1, 2 and the plan's `keep_fds`).
int prepare_child(const launch_plan& plan, const std::vector<int>& keep) {
  default_dispositions();
  if (::setsid() < 0)
    return errno;
  if (int err = install_stdio(plan.stdio))
    return err;
  // Hook of a PTY child: its terminal on 0 becomes the session's.
  if (plan.controlling_tty && ::ioctl(0, TIOCSCTTY, 0) < 0)
    return errno;
  close_inherited(keep);
  if (int err = set_limits(plan.rlimits))
    return err;
  if (plan.run_as)
    if (auto ec = drop_privileges(*plan.run_as))
      return ec.value();
  // After the drop: the directory is entered with the user's rights.
  if (plan.cwd && ::chdir(plan.cwd->c_str()) < 0)
    return errno;
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  return 0;
}

/// The launcher's initializer: `plan` applied in the vfork child, between
/// vfork and exec, on the server's memory and the spawning thread's stack.
/// Only system calls here: no allocation, no lock.
struct child_setup {
  const launch_plan* plan = nullptr;

  bp::error_code on_exec_setup(bp::posix::default_launcher& launcher,
                               const std::filesystem::path&,
                               const char* const*) {
    int err = prepare_child(*plan, launcher.fd_whitelist);
    // Boost 1.81 reports errno, not this hook's result, to the parent.
    errno = err;
    return {err, bp::system_category()};
  }

  /// A step or the exec failed. The launcher would then call exit(), which
  /// in a vfork child runs the server's atexit handlers on the server's own
  /// memory; leave at once instead. The parent reads the error from the
  /// launcher's error_code, which the child shares. (Variadic: Boost 1.81
  /// detects this hook with one argument more than it passes.)
  template <class... Ts>
  void on_exec_error(bp::posix::default_launcher&, Ts&&...) {
    ::_exit(127);
  }
};

std::vector<const char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<const char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings)
    out.push_back(s.c_str());
  out.push_back(nullptr);
  return out;
}

} // namespace

launched_child launch(const launch_plan& plan, std::error_code& ec) {
  // Everything the child reads is allocated here, before the vfork.
  auto argv = c_strings(plan.argv);
  auto envp = c_strings(plan.env);
  const char** args = argv.data(); // taken as is: argv[0] included
  std::filesystem::path exe{plan.exe};
  bp::posix::vfork_launcher launcher;
  launcher.env = envp.data();
  launcher.fd_whitelist.insert(launcher.fd_whitelist.end(),
                               plan.keep_fds.begin(), plan.keep_fds.end());
  // The launcher tells its execution context of the fork, in the child too,
  // and the child shares our memory: a fresh context has no reactor for
  // that to touch (the serving one must never see it).
  asio::io_context launch_ctx;
  bp::error_code launch_ec;
  // No signal handler of the server may run in the child before it has
  // reset them.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  auto proc = launcher(launch_ctx.get_executor(), launch_ec, exe, args,
                       child_setup{&plan});
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  launched_child child;
  if (launch_ec) {
    // The child ended before exec; it is ours to reap (the launcher does
    // not).
    if (launcher.pid > 0)
      while (::waitpid(launcher.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    ec.assign(launch_ec.value(), std::system_category());
    return child;
  }
  child.pid = proc.id();
  // Ours to reap, through our own pidfd; the process object would kill it.
  proc.detach();
  // Unreaped, the pid cannot be reused: this pidfd is the child's.
  child.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
  return child;
}

} // namespace actorexec
