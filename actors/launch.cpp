#include "actors/launch.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <vector>

namespace actorexec {

namespace {

/// The child's own stack: it runs beside the parent in the same memory.
/// Only system calls run on it (sanitizer builds need the margin).
constexpr std::size_t child_stack_bytes = 256 * 1024;

/// What the child reads and writes: prepared by the parent, so the child
/// allocates nothing.
struct child_args {
  const launch_plan* plan = nullptr;
  const char* const* argv = nullptr;
  const char* const* envp = nullptr;
  /// The errno of the step that failed; 0 if the exec succeeded. Shared
  /// memory: the parent reads it once the child has exec'd or exited.
  std::atomic<int> err{0};
};

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
/// installed. The copies are closed with the rest.
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
/// would stay open as long as any child lives.
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

/// Every step before exec; the errno of the first that fails.
int prepare_child(const launch_plan& plan) {
  default_dispositions();
  if (::setsid() < 0)
    return errno;
  if (int err = install_stdio(plan.stdio))
    return err;
  // Hook of a PTY child: its terminal on 0 becomes the session's.
  if (plan.controlling_tty && ::ioctl(0, TIOCSCTTY, 0) < 0)
    return errno;
  close_inherited(plan.keep_fds);
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

/// The child's entry on its own stack. It leaves with `_exit`, never
/// `exit`: atexit handlers would run on the server's memory. Not
/// instrumented: a sanitizer would take the stack switch for an error.
__attribute__((no_sanitize_address)) int child_main(void* arg) {
  auto& args = *static_cast<child_args*>(arg);
  int err = prepare_child(*args.plan);
  if (err == 0) {
    ::execve(args.plan->exe.c_str(), const_cast<char* const*>(args.argv),
             const_cast<char* const*>(args.envp));
    err = errno;
  }
  args.err.store(err);
  ::_exit(127);
}

std::vector<const char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<const char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings)
    out.push_back(s.c_str());
  out.push_back(nullptr);
  return out;
}

/// CLONE_VM | CLONE_VFORK on a stack of its own, as posix_spawn does: the
/// parent waits until the child has exec'd or exited. Every signal is
/// blocked meanwhile, so no handler of the server runs in the child before
/// it has reset them.
pid_t clone_child(child_args& args, std::error_code& ec) {
  auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* stack = ::mmap(nullptr, child_stack_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    ec.assign(errno, std::system_category());
    return -1;
  }
  // A guard page below the stack: an overflow faults instead of writing
  // over whatever lies there.
  ::mprotect(stack, page, PROT_NONE);
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::clone(child_main, static_cast<char*>(stack) + child_stack_bytes,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, child_stack_bytes);
  if (pid < 0)
    ec.assign(clone_errno, std::system_category());
  return pid;
}

} // namespace

launched_child launch(const launch_plan& plan, std::error_code& ec) {
  auto argv = c_strings(plan.argv);
  auto envp = c_strings(plan.env);
  child_args args;
  args.plan = &plan;
  args.argv = argv.data();
  args.envp = envp.data();
  launched_child child;
  pid_t pid = clone_child(args, ec);
  if (pid < 0)
    return child;
  if (int err = args.err.load()) {
    // It ended before exec; it is ours to reap.
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    ec.assign(err, std::system_category());
    return child;
  }
  child.pid = pid;
  // Unreaped, the pid cannot be reused: this pidfd is the child's.
  child.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  return child;
}

} // namespace actorexec
