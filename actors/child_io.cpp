#include "actors/child_io.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <caf/send.hpp>

#include "actors/launch.hpp"
#include "actors/log.hpp"

namespace actorexec {

namespace asio = boost::asio;

namespace {

/// `chunks` framing batches reads of a stream in full flow: a read that
/// follows one with data within `batch_window` waits `batch_delay` first.
constexpr auto batch_window = std::chrono::milliseconds{2};
constexpr auto batch_delay = std::chrono::microseconds{500};

/// Pipe size for `chunks` framing (Linux' default is 64 KiB): the child
/// keeps writing while we frame and send the last read.
constexpr int chunks_pipe_bytes = 1 << 20;

/// The pipes of one child: the ends it gets as 0, 1 and 2 (stdin may be
/// /dev/null), and ours.
struct child_pipes {
  std::array<unique_fd, 3> theirs;
  unique_fd stdin_ours;
  std::array<unique_fd, 2> out_ours;
};

std::error_code make_pipe(unique_fd& read_end, unique_fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0)
    return {errno, std::system_category()};
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return {};
}

std::error_code make_pipes(bool stdin_pipe, child_pipes& p) {
  if (stdin_pipe) {
    if (auto ec = make_pipe(p.theirs[0], p.stdin_ours))
      return ec;
  } else {
    p.theirs[0].reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!p.theirs[0])
      return {errno, std::system_category()};
  }
  for (std::size_t i = 0; i < 2; ++i)
    if (auto ec = make_pipe(p.out_ours[i], p.theirs[i + 1]))
      return ec;
  return {};
}

} // namespace

child_io::child_io(asio::io_context& ctx, caf::actor owner)
    : strand_(asio::make_strand(ctx)),
      owner_(std::move(owner)), out_fd_{asio::posix::stream_descriptor{strand_},
                                        asio::posix::stream_descriptor{
                                            strand_}},
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
  launch_plan plan;
  child_pipes pipes;
  auto err = make_launch_plan(spec, plan);
  if (!err)
    err = make_pipes(spec.params.stdin_pipe, pipes);
  if (!err) {
    for (std::size_t i = 0; i < 3; ++i)
      plan.stdio[i] = pipes.theirs[i].get();
  }
  std::shared_ptr<child_io> io{new child_io(ctx, std::move(owner))};
  auto child = err ? launched_child{} : launch(plan, err);
  if (err) {
    ec.assign(err.value(), boost::system::system_category());
    return nullptr;
  }
  io->pid_ = child.pid;
  io->has_stdin_ = spec.params.stdin_pipe;
  // A child we cannot talk to is a failed spawn; `io` going away kills and
  // reaps it.
  if (io->has_stdin_) {
    io->in_.assign(pipes.stdin_ours.get(), ec);
    if (ec)
      return nullptr;
    pipes.stdin_ours.release();
  }
  if ((ec = io->take_output_pipes(pipes.out_ours, spec.params.framing)))
    return nullptr;
  // We reap through our own pidfd on the serving context; without one, a
  // thread waits (see wait).
  boost::system::error_code pidfd_ec;
  io->pidfd_.assign(child.pidfd.get(), pidfd_ec);
  if (!pidfd_ec)
    child.pidfd.release();
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

boost::system::error_code watch_output_pipe(asio::posix::stream_descriptor& d,
                                            unique_fd fd) {
  boost::system::error_code ec;
  d.assign(fd.get(), ec);
  if (ec)
    return ec;
  fd.release();
  d.non_blocking(true, ec);
  return ec;
}

boost::system::error_code
child_io::take_output_pipes(std::array<unique_fd, 2>& pipes,
                            protocol::framing_mode framing) {
  batch_reads_ = framing == protocol::framing_mode::chunks;
  for (std::size_t i = 0; i < 2; ++i) {
    // Throughput mode: a larger pipe lets one read take more of what the
    // child wrote (fewer messages between the I/O thread and the actors).
    // Best effort: an unprivileged user may be over its pipe quota.
    if (framing == protocol::framing_mode::chunks)
      ::fcntl(pipes[i].get(), F_SETPIPE_SZ, chunks_pipe_bytes);
    if (auto ec = watch_output_pipe(out_fd_[i], std::move(pipes[i])))
      return ec;
  }
  return {};
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
    // The write's own error (EPIPE: the child closed its stdin; ECANCELED:
    // we closed it meanwhile), for the client to see.
    int err = ec ? ec.value() : 0;
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
