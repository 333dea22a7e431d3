#pragma once

#include <signal.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/system/error_code.hpp>

#include <caf/actor.hpp>

#include "actors/messages.hpp"
#include "actors/unique_fd.hpp"

namespace actorexec {

/// What a process actor needs of its child: the seam where tests put a fake
/// child, so the actor's state machine runs on virtual time without
/// processes. Completions come back to the owner as messages.
class child_port {
public:
  virtual ~child_port() = default;
  virtual pid_t pid() const = 0;
  /// Reads at most `max_bytes` from `stream`; answers (read_atom, stream,
  /// bytes, eof). At most one read per stream is outstanding.
  virtual void read(protocol::stream_kind stream, std::size_t max_bytes) = 0;
  /// Writes to stdin, closing it after if `eof`; answers (wrote_atom, bytes,
  /// errno) once the bytes are in the pipe.
  virtual void write(std::string data, bool eof) = 0;
  /// Waits for the child to exit without reaping it; answers (exited_atom,
  /// wait_status), or (wait_failed_atom, error) when the exit cannot be
  /// learned. The zombie keeps the group's number ours until `release`.
  virtual void wait() = 0;
  /// Sends `sig` to the whole process group; nothing once the child was
  /// reaped (its number may belong to someone else by then).
  virtual void signal_group(int sig) = 0;
  /// Closes every pipe; outstanding reads end with eof.
  virtual void close_pipes() = 0;
  /// The owner is done with the child: SIGKILL to the group first if
  /// `kill` (the owner ends before the child did), then the pipes close
  /// and the child is reaped as soon as it has exited. Only the first call
  /// counts. Safe from any thread: the last act of a dying owner.
  virtual void release(bool kill) = 0;
};

/// The waitpid status a `waitid` result stands for (what the process actor
/// decodes with WIFEXITED and friends); none when it is not an exit.
std::optional<int> wait_status_of(const siginfo_t& info);

/// Makes `fd`, our end of a child's output pipe, the non-blocking
/// descriptor `d` waits on for readiness; `fd` is closed on failure.
boost::system::error_code
watch_output_pipe(boost::asio::posix::stream_descriptor& d, unique_fd fd);

/// Starts a child for `owner`; nullptr and `ec` set when it cannot.
using child_spawner = std::function<std::shared_ptr<child_port>(
    const spawn_spec&, caf::actor owner, boost::system::error_code& ec)>;

/// The asynchronous I/O side of one child: its pipes, its pidfd and its
/// process group. Owned by a process actor through a shared_ptr; every
/// operation is posted to one strand, and every completion comes back to the
/// owner as a message (read_atom, exited_atom, wrote_atom). So the process
/// actor never blocks and Asio threads never touch actor state.
///
/// The child is reaped only on `release`: until then its zombie holds its
/// pid, which is also the group's id, so no other process can get that
/// number and `kill(-pid)` reaches our group or nobody.
class child_io : public child_port,
                 public std::enable_shared_from_this<child_io> {
public:
  using strand_type =
      boost::asio::strand<boost::asio::io_context::executor_type>;

  /// Starts the child (`launch`: a new session and process group, see
  /// launch.hpp) with stdout and stderr on pipes and stdin on a pipe or
  /// /dev/null. Returns nullptr and sets `ec` when it could not start.
  static std::shared_ptr<child_io> spawn(boost::asio::io_context& ctx,
                                         const spawn_spec& spec,
                                         caf::actor owner,
                                         boost::system::error_code& ec);

  ~child_io();

  /// A spawner of real children on `ctx`.
  static child_spawner spawner(boost::asio::io_context& ctx);

  pid_t pid() const override { return pid_; }

  /// Reads at most `max_bytes` from `stream`; answers (read_atom, stream,
  /// bytes, eof). At most one read per stream is outstanding.
  void read(protocol::stream_kind stream, std::size_t max_bytes) override;

  /// Writes `data` to stdin, then closes it if `eof`; answers (wrote_atom,
  /// bytes, errno) once the bytes are in the pipe.
  void write(std::string data, bool eof) override;

  /// Waits for the child to exit without reaping it; answers (exited_atom,
  /// wait_status) or (wait_failed_atom, error).
  void wait() override;

  /// Sends `sig` to the whole process group unless the child was reaped.
  /// Safe from any thread.
  void signal_group(int sig) override;

  /// Closes every pipe; outstanding reads end with eof.
  void close_pipes() override;

  /// SIGKILL to the group first if `kill`, closes the pipes, reaps the
  /// child once it has exited. Only the first call counts; safe from any
  /// thread.
  void release(bool kill) override;

private:
  child_io(boost::asio::io_context& ctx, caf::actor owner);

  void do_write();
  void on_pidfd_ready();
  /// Without a (working) pidfd: a thread blocks until the child exited.
  void wait_in_thread();
  /// On the strand: the exit is known (`err` 0, `info` says how) or cannot
  /// be (`err`, what waitid said).
  void on_exit_known(int err, const siginfo_t& info);
  /// Reaps the exited child, at most once; the group's number is never
  /// signalled after.
  void reap();
  /// Makes our ends of the child's stdout and stderr descriptors we wait
  /// on for readiness (sized for `framing`).
  boost::system::error_code take_output_pipes(std::array<unique_fd, 2>& pipes,
                                              protocol::framing_mode framing);
  void await_readable(protocol::stream_kind stream, std::size_t max_bytes);
  void read_now(protocol::stream_kind stream, std::size_t max_bytes,
                boost::system::error_code ec);

  strand_type strand_;
  caf::actor owner_;
  pid_t pid_ = -1;
  /// Guards `reaped_` so that no signal can be sent between the reap and
  /// the flag: a signal is sent only while the zombie holds the number.
  std::mutex reap_mutex_;
  bool reaped_ = false;
  /// The owner let go (`release`): reap as soon as the child has exited.
  std::atomic<bool> released_{false};
  /// The child has exited (or cannot be waited for); strand only.
  bool exited_ = false;
  /// Our ends of the child's stdout and stderr.
  std::array<boost::asio::posix::stream_descriptor, 2> out_fd_;
  /// Read batching of `chunks` framing, per stream: when the last read
  /// brought data, and the timer that delays the next one.
  struct read_batch {
    boost::asio::steady_timer timer;
    std::chrono::steady_clock::time_point last_data;
  };
  std::array<read_batch, 2> batch_;
  bool batch_reads_ = false;
  boost::asio::writable_pipe in_;
  bool has_stdin_ = false;
  /// One `input` request: its bytes, and whether stdin closes after them.
  struct pending_write {
    std::string data;
    bool eof = false;
  };
  std::deque<pending_write> writes_;
  boost::asio::posix::stream_descriptor pidfd_;
};

} // namespace actorexec
