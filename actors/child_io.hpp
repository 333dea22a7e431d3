#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/system/error_code.hpp>

#include <caf/actor.hpp>

#include "actors/messages.hpp"

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
  /// Waits for the child to exit and reaps it; answers (reaped_atom, status).
  virtual void wait() = 0;
  /// Sends `sig` to the whole process group.
  virtual void signal_group(int sig) = 0;
  /// Closes every pipe; outstanding reads end with eof.
  virtual void close_pipes() = 0;
  /// SIGKILL to the group unless reaped, then closes the pipes. Safe from
  /// any thread: the last resort of a dying owner.
  virtual void kill_if_alive() = 0;
};

/// Starts a child for `owner`; nullptr and `ec` set when it cannot.
using child_spawner = std::function<std::shared_ptr<child_port>(
    const spawn_spec&, caf::actor owner, boost::system::error_code& ec)>;

/// The asynchronous I/O side of one child: its pipes, its pidfd and its
/// process group. Owned by a process actor through a shared_ptr; every
/// operation is posted to one strand, and every completion comes back to the
/// owner as a message (read_atom, reaped_atom, wrote_atom). So the process
/// actor never blocks and Asio threads never touch actor state.
class child_io : public child_port,
                 public std::enable_shared_from_this<child_io> {
public:
  using strand_type =
      boost::asio::strand<boost::asio::io_context::executor_type>;

  /// Starts the child in a new session and process group (setsid), with
  /// stdout and stderr on pipes and stdin on a pipe or /dev/null. Returns
  /// nullptr and sets `ec` when it could not start.
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

  /// Waits for the child to exit and reaps it; answers (reaped_atom, status).
  void wait() override;

  /// Sends `sig` to the whole process group. Safe from any thread.
  void signal_group(int sig) override;

  /// Closes every pipe; outstanding reads end with eof.
  void close_pipes() override;

  /// SIGKILL to the group unless the child was already reaped, then closes
  /// the pipes. Safe from any thread: the last resort of a dying owner.
  void kill_if_alive() override;

private:
  child_io(boost::asio::io_context& ctx, caf::actor owner);

  void do_write();
  void on_pidfd_ready();
  /// Moves the output pipes the child was given into descriptors we wait
  /// on for readiness (sized for `framing`).
  void take_output_pipes(protocol::framing_mode framing);
  void await_readable(protocol::stream_kind stream, std::size_t max_bytes);
  void read_now(protocol::stream_kind stream, std::size_t max_bytes,
                boost::system::error_code ec);

  strand_type strand_;
  caf::actor owner_;
  pid_t pid_ = -1;
  std::atomic<bool> reaped_{false};
  /// The child's stdout and stderr: pipes while it starts, descriptors
  /// after (see take_output_pipes).
  std::array<boost::asio::readable_pipe, 2> out_;
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
