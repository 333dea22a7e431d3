#include "actors/child_io.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

// Boost.Process 1.81's v2 headers use these without including them.
#include <type_traits>

#include <boost/optional.hpp>
#include <boost/type_traits.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/process/v2/process.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/posix/default_launcher.hpp>
#include <boost/process/v2/posix/vfork_launcher.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>

#include <caf/send.hpp>

#include "actors/log.hpp"
#include "actors/run_as.hpp"

extern char** environ;

namespace actorexec {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace {

/// `chunks` framing batches reads of a stream in full flow: a read that
/// follows one with data within `batch_window` waits `batch_delay` first.
constexpr auto batch_window = std::chrono::milliseconds{2};
constexpr auto batch_delay = std::chrono::microseconds{500};

/// Pipe size for `chunks` framing (Linux' default is 64 KiB): the child
/// keeps writing while we frame and send the last read.
constexpr int chunks_pipe_bytes = 1 << 20;

/// Closes every descriptor above stderr but the launcher's own. Boost
/// 1.81's close_all skips the gaps between whitelisted descriptors (it
/// compares an entry with itself), so without this a child would inherit the
/// server's sockets and pipes: a client's socket would then stay open as
/// long as any child lives. Runs in the vfork child, so it allocates nothing.
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

/// Runs in the child between vfork and exec: a new session (so the child
/// and everything it forks form a process group we can signal as one, and
/// the child cannot signal the server's group), limits, the `--run-as`
/// user, and the signal state of a fresh program (exec keeps the mask and
/// ignored dispositions of the server). The child shares the server's
/// memory until exec: only plain system calls here, no allocation, no locks.
struct child_setup {
  /// Limits to set; setrlimit is a plain system call.
  const std::vector<std::pair<int, std::uint64_t>>* rlimits = nullptr;
  /// The user to become, or null.
  const run_as_user* user = nullptr;

  std::error_code on_exec_setup(bp::posix::default_launcher& launcher,
                                const std::filesystem::path&,
                                const char* const*) {
    if (::setsid() < 0)
      return {errno, std::system_category()};
    close_inherited(launcher.fd_whitelist);
    for (auto& [resource, value] : *rlimits) {
      struct rlimit lim;
      lim.rlim_cur = lim.rlim_max = static_cast<rlim_t>(value);
      // CPU: SIGXCPU at the soft limit (so the exit says why), SIGKILL
      // only a second later if the child ignores it.
      if (resource == RLIMIT_CPU)
        lim.rlim_max = lim.rlim_cur + 1;
      if (::setrlimit(resource, &lim) < 0)
        return {errno, std::system_category()};
    }
    if (user != nullptr)
      if (auto ec = drop_privileges(*user))
        return ec;
    // Default dispositions first, then unblock what the parent blocked
    // around the vfork.
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD})
      ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    return {};
  }

  /// Setup or exec failed in the child. The launcher would call exit(),
  /// which in a vfork child runs the server's atexit handlers on the
  /// server's own memory; leave at once instead. The parent reads the
  /// error from the shared error_code. (Variadic: Boost 1.81 detects this
  /// hook with one argument more than it passes.)
  template <class... Ts>
  void on_exec_error(bp::posix::default_launcher&, Ts&&...) {
    ::_exit(127);
  }
};

/// The child's environment: the server's, without secrets, with HOME, USER
/// and LOGNAME of the `--run-as` user, plus the request's additions (which
/// win over both).
std::vector<std::string> child_environment(const spawn_spec& spec) {
  std::vector<std::pair<std::string, std::string>> identity;
  if (spec.run_as)
    identity = {{"HOME", spec.run_as->home},
                {"USER", spec.run_as->name},
                {"LOGNAME", spec.run_as->name}};
  auto scrubbed = [&](std::string_view key) {
    // The server's own settings (the auth token among them) are none of
    // the child's business.
    if (key.rfind("ACTOREXEC_", 0) == 0)
      return true;
    return std::find(spec.scrub_env.begin(), spec.scrub_env.end(), key) !=
           spec.scrub_env.end();
  };
  auto in = [](const auto& vars, std::string_view key) {
    for (auto& kv : vars)
      if (kv.first == key)
        return true;
    return false;
  };
  std::vector<std::string> result;
  for (auto p = environ; p && *p; ++p) {
    std::string_view entry{*p};
    auto key = entry.substr(0, entry.find('='));
    if (!scrubbed(key) && !in(spec.params.env, key) && !in(identity, key))
      result.emplace_back(entry);
  }
  for (auto& kv : identity)
    if (!in(spec.params.env, kv.first))
      result.push_back(kv.first + "=" + kv.second);
  for (auto& kv : spec.params.env)
    result.push_back(kv.first + "=" + kv.second);
  return result;
}

/// The executable and its arguments: `argv` as given, or `command` under the
/// configured shell.
std::vector<std::string> child_argv(const spawn_spec& spec) {
  if (!spec.params.argv.empty())
    return spec.params.argv;
  return {spec.shell, "-c", *spec.params.command};
}

std::filesystem::path resolve(const std::string& name) {
  if (name.find('/') != std::string::npos)
    return name;
  return bp::environment::find_executable(name);
}

} // namespace

child_io::child_io(asio::io_context& ctx, caf::actor owner)
    : strand_(asio::make_strand(ctx)),
      owner_(std::move(owner)), out_{asio::readable_pipe{strand_},
                                     asio::readable_pipe{strand_}},
      out_fd_{asio::posix::stream_descriptor{strand_},
              asio::posix::stream_descriptor{strand_}},
      batch_{read_batch{asio::steady_timer{strand_}, {}},
             read_batch{asio::steady_timer{strand_}, {}}},
      in_(strand_), pidfd_(strand_) {}

child_spawner child_io::spawner(asio::io_context& ctx) {
  return [&ctx](const spawn_spec& spec, caf::actor owner,
                boost::system::error_code& ec) -> std::shared_ptr<child_port> {
    return spawn(ctx, spec, std::move(owner), ec);
  };
}

std::shared_ptr<child_io> child_io::spawn(asio::io_context& ctx,
                                          const spawn_spec& spec,
                                          caf::actor owner,
                                          boost::system::error_code& ec) {
  std::shared_ptr<child_io> io{new child_io(ctx, std::move(owner))};
  auto argv = child_argv(spec);
  auto exe = resolve(argv.front());
  if (exe.empty()) {
    ec.assign(ENOENT, boost::system::system_category());
    return nullptr;
  }
  auto env = child_environment(spec);
  std::vector<const char*> envp;
  for (auto& e : env)
    envp.push_back(e.c_str());
  envp.push_back(nullptr);
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  // vfork: the server's page tables are not copied, so a spawn costs the
  // same whatever the server's size. The launcher tells its execution
  // context of the fork, in the child too, and the child shares our memory:
  // a fresh context has no reactor for that to touch (the serving one must
  // never see it).
  asio::io_context launch_ctx;
  bp::posix::vfork_launcher launcher;
  launcher.env = envp.data();
  auto start_dir = spec.params.cwd ? std::filesystem::path{*spec.params.cwd}
                                   : std::filesystem::current_path();
  io->has_stdin_ = spec.params.stdin_pipe;
  auto run = [&](auto&& stdin_binding) {
    return launcher(launch_ctx.get_executor(), ec, exe, args,
                    bp::process_stdio{stdin_binding, io->out_[0], io->out_[1]},
                    bp::process_start_dir{start_dir},
                    child_setup{&spec.rlimits, spec.run_as.get()});
  };
  // No signal handler of the server may run in the child before exec.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  auto proc = io->has_stdin_ ? run(io->in_) : run(nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (ec) {
    // The child exited before exec; it is ours to reap.
    if (launcher.pid > 0)
      ::waitpid(launcher.pid, nullptr, 0);
    return nullptr;
  }
  io->pid_ = proc.id();
  io->take_output_pipes(spec.params.framing);
  // We reap through our own pidfd on the serving context.
  proc.detach();
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, io->pid_, 0));
  if (fd >= 0)
    io->pidfd_.assign(fd);
  return io;
}

void child_io::read(protocol::stream_kind stream, std::size_t max_bytes) {
  asio::post(strand_, [self = shared_from_this(), stream, max_bytes] {
    auto idx = static_cast<std::size_t>(stream);
    auto& batch = self->batch_[idx];
    if (!self->batch_reads_ ||
        std::chrono::steady_clock::now() - batch.last_data > batch_window)
      return self->await_readable(stream, max_bytes);
    // A stream in full flow: let the child's writes gather in the pipe
    // for a moment, so one read takes many of them.
    batch.timer.expires_after(batch_delay);
    batch.timer.async_wait(
        asio::bind_executor(self->strand_, [self, stream, max_bytes](auto) {
          self->await_readable(stream, max_bytes);
        }));
  });
}

void child_io::await_readable(protocol::stream_kind stream,
                              std::size_t max_bytes) {
  auto idx = static_cast<std::size_t>(stream);
  out_fd_[idx].async_wait(
      asio::posix::stream_descriptor::wait_read,
      asio::bind_executor(strand_, [self = shared_from_this(), stream,
                                    max_bytes](boost::system::error_code ec) {
        self->read_now(stream, max_bytes, ec);
      }));
}

void child_io::read_now(protocol::stream_kind stream, std::size_t max_bytes,
                        boost::system::error_code ec) {
  // Readiness first, then a read into this I/O thread's scratch buffer: a
  // session waiting for output holds no buffer, and what the child wrote
  // is copied once, into a string of its exact size.
  thread_local std::vector<char> scratch;
  std::string bytes;
  bool eof = static_cast<bool>(ec);
  if (!eof) {
    if (scratch.size() < max_bytes)
      scratch.resize(max_bytes);
    auto fd = out_fd_[static_cast<std::size_t>(stream)].native_handle();
    auto n = ::read(fd, scratch.data(), max_bytes);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return await_readable(stream, max_bytes);
    if (n > 0) {
      bytes.assign(scratch.data(), static_cast<std::size_t>(n));
      batch_[static_cast<std::size_t>(stream)].last_data =
          std::chrono::steady_clock::now();
    }
    eof = n <= 0;
  }
  caf::anon_send(owner_, read_atom::value, stream, std::move(bytes), eof);
}

void child_io::take_output_pipes(protocol::framing_mode framing) {
  batch_reads_ = framing == protocol::framing_mode::chunks;
  for (std::size_t i = 0; i < 2; ++i) {
    auto fd = out_[i].release();
    // Throughput mode: a larger pipe lets one read take more of what the
    // child wrote (fewer messages between the I/O thread and the actors).
    // Best effort: an unprivileged user may be over its pipe quota.
    if (framing == protocol::framing_mode::chunks)
      ::fcntl(fd, F_SETPIPE_SZ, chunks_pipe_bytes);
    boost::system::error_code ec;
    out_fd_[i].assign(fd, ec);
    out_fd_[i].non_blocking(true, ec);
  }
}

void child_io::write(std::string data, bool eof) {
  asio::post(strand_, [self = shared_from_this(), data = std::move(data),
                       eof]() mutable {
    if (!self->has_stdin_ || !self->in_.is_open()) {
      caf::anon_send(self->owner_, wrote_atom::value, std::uint64_t{0},
                     static_cast<int>(EPIPE));
      return;
    }
    self->writes_.push_back(pending_write{std::move(data), eof});
    if (self->writes_.size() == 1)
      self->do_write();
  });
}

void child_io::do_write() {
  if (writes_.empty())
    return;
  auto on_written = [self = shared_from_this()](boost::system::error_code ec,
                                                std::size_t n) {
    auto done = std::move(self->writes_.front());
    self->writes_.pop_front();
    boost::system::error_code ignored;
    if (ec || done.eof)
      self->in_.close(ignored);
    int err = ec ? EPIPE : 0;
    caf::anon_send(self->owner_, wrote_atom::value,
                   static_cast<std::uint64_t>(n), err);
    if (!self->in_.is_open()) {
      // Later writes find stdin closed: answer each of them.
      for (auto& w : self->writes_) {
        (void)w;
        caf::anon_send(self->owner_, wrote_atom::value, std::uint64_t{0},
                       static_cast<int>(EPIPE));
      }
      self->writes_.clear();
      return;
    }
    self->do_write();
  };
  asio::async_write(in_, asio::buffer(writes_.front().data),
                    asio::bind_executor(strand_, std::move(on_written)));
}

void child_io::close_pipes() {
  asio::post(strand_, [self = shared_from_this()] {
    boost::system::error_code ignored;
    for (auto& d : self->out_fd_)
      d.close(ignored);
    for (auto& b : self->batch_)
      b.timer.cancel();
    self->in_.close(ignored);
  });
}

} // namespace actorexec
