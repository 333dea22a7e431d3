// child_io's exit side: learning that the child ended (pidfd, or a thread
// where there is none), reaping it once its owner lets go, and signalling
// its group only while its zombie holds the group's number.
#include "actors/child_io.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <caf/send.hpp>

#include "actors/log.hpp"

namespace actorexec {

namespace asio = boost::asio;

namespace {

/// Reaps `pid` now if it has exited, else from a thread as soon as it has:
/// no child of ours is left a zombie for the server's life.
void reap_pid(pid_t pid) {
  if (::waitpid(pid, nullptr, WNOHANG) != 0)
    return; // reaped, or not ours to reap
  try {
    std::thread([pid] {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }).detach();
  } catch (const std::system_error&) {
    log::error("reap_failed", {{"pid", pid}, {"error", "no thread"}});
  }
}

} // namespace

std::optional<int> wait_status_of(const siginfo_t& info) {
  switch (info.si_code) {
  case CLD_EXITED:
    return W_EXITCODE(info.si_status & 0xff, 0);
  case CLD_KILLED:
    return W_EXITCODE(0, info.si_status & 0x7f);
  case CLD_DUMPED:
    return W_EXITCODE(0, info.si_status & 0x7f) | WCOREFLAG;
  default: // stopped, continued: not asked for (WEXITED only)
    return std::nullopt;
  }
}

child_io::~child_io() {
  // Last line of defence: whoever drops the I/O side of a live child takes
  // its whole group down, so nothing outlives its actor. Unreaped, the
  // number is still the group's. The child dies only after the SIGKILL is
  // delivered, so the reap may have to wait for it.
  std::lock_guard<std::mutex> lock{reap_mutex_};
  if (pid_ > 0 && !reaped_) {
    ::kill(-pid_, SIGKILL);
    reap_pid(pid_);
  }
}

void child_io::wait() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->pidfd_.is_open())
      self->on_pidfd_ready();
    else // no pidfd (old kernel)
      self->wait_in_thread();
  });
}

void child_io::on_pidfd_ready() {
  // WNOWAIT: learn how the child ended but leave its zombie. The zombie
  // holds the pid, which is the group's id, so the kernel cannot give the
  // number to another process while the owner may still signal the group.
  siginfo_t info{};
  int res;
  do
    res = ::waitid(P_PID, static_cast<id_t>(pid_), &info,
                   WEXITED | WNOHANG | WNOWAIT);
  while (res < 0 && errno == EINTR);
  if (res == 0 && info.si_pid == 0) { // still running
    pidfd_.async_wait(
        asio::posix::descriptor_base::wait_read,
        asio::bind_executor(strand_, [self = shared_from_this()](auto ec) {
          if (!ec)
            return self->on_pidfd_ready();
          // The child must still be waited for and reaped.
          log::warn("pidfd_wait_failed",
                    {{"pid", self->pid_}, {"error", ec.message()}});
          self->wait_in_thread();
        }));
    return;
  }
  boost::system::error_code ignored;
  pidfd_.close(ignored);
  on_exit_known(res < 0 ? errno : 0, info);
}

void child_io::wait_in_thread() {
  std::thread([self = shared_from_this()] {
    siginfo_t info{};
    int res;
    do
      res = ::waitid(P_PID, static_cast<id_t>(self->pid_), &info,
                     WEXITED | WNOWAIT);
    while (res < 0 && errno == EINTR);
    int err = res < 0 ? errno : 0;
    asio::post(self->strand_,
               [self, err, info] { self->on_exit_known(err, info); });
  }).detach();
}

void child_io::on_exit_known(int err, const siginfo_t& info) {
  exited_ = true;
  if (err != 0) {
    // Not waitable: someone else reaped it (SIGCHLD ignored?), so its
    // number may be anyone's now. Never signal it again.
    {
      std::lock_guard<std::mutex> lock{reap_mutex_};
      reaped_ = true;
    }
    log::error("wait_failed", {{"pid", pid_}, {"error", std::strerror(err)}});
    caf::anon_send(owner_, wait_failed_atom::value,
                   std::string{"cannot wait for the process: "} +
                       std::strerror(err));
  } else if (auto status = wait_status_of(info)) {
    caf::anon_send(owner_, exited_atom::value, *status);
  } else {
    // Not an exit: say so rather than pass it off as exit status 0. The
    // child is still ours, so it is reaped on release as any other.
    auto what = "unknown exit (si_code " + std::to_string(info.si_code) + ")";
    log::error("wait_failed", {{"pid", pid_}, {"error", what}});
    caf::anon_send(owner_, wait_failed_atom::value,
                   "cannot learn how the process ended: " + what);
  }
  if (released_)
    reap();
}

void child_io::reap() {
  std::lock_guard<std::mutex> lock{reap_mutex_};
  if (reaped_)
    return;
  reap_pid(pid_); // it has exited: returns at once
  reaped_ = true;
}

void child_io::signal_group(int sig) {
  std::lock_guard<std::mutex> lock{reap_mutex_};
  if (pid_ > 0 && !reaped_)
    ::kill(-pid_, sig);
}

void child_io::release(bool kill) {
  if (released_.exchange(true))
    return;
  if (kill)
    signal_group(SIGKILL);
  close_pipes();
  // Not exited yet: the pending wait reaps when it learns the exit.
  asio::post(strand_, [self = shared_from_this()] {
    if (self->exited_)
      self->reap();
  });
}

} // namespace actorexec
