#include "actors/process.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/process_parts.hpp"
#include "actors/timer_relay.hpp"

namespace actorexec {

using namespace std::chrono;
using namespace process_parts;
using protocol::stream_kind;

namespace {

constexpr int stdout_idx = 0;
constexpr int stderr_idx = 1;

/// After SIGKILL the group is dead, yet a process that escaped it (a new
/// session of its own) may still hold our pipes. Past this we stop waiting.
constexpr auto pipe_close_delay = milliseconds{1000};

stream_kind kind_of(int idx) {
  return idx == stdout_idx ? stream_kind::out : stream_kind::err;
}

/// Issues a read on every open, idle stream while there is credit. Credit
/// is charged when bytes arrive, not when a read is issued: a quiet stream
/// (stderr, mostly) must not sit on credit the other one needs. Both reads
/// together may overshoot the credit by at most one read.
void pump_reads(process_actor_type* self) {
  auto& st = self->state;
  for (int idx = 0; idx < 2; ++idx) {
    if (st.eof[idx] || st.reading[idx] > 0 || st.credit == 0)
      continue;
    auto take = std::min<std::uint64_t>(st.credit, st.max_read);
    st.reading[idx] = take;
    st.io->read(kind_of(idx), take);
  }
}

protocol::completion make_completion(process_actor_type* self) {
  auto& st = self->state;
  protocol::completion c;
  c.pid = st.pid;
  c.pgid = st.pid;
  if (!st.wait_error.empty()) {
    c.error = st.wait_error;
  } else if (WIFEXITED(st.wait_status)) {
    c.exit_code = WEXITSTATUS(st.wait_status);
  } else if (WIFSIGNALED(st.wait_status)) {
    c.signal = WTERMSIG(st.wait_status);
    c.exit_code = -static_cast<std::int64_t>(*c.signal);
  }
  if (st.end_status)
    c.status = *st.end_status;
  else
    c.status = c.exit_code && *c.exit_code == 0
                   ? protocol::end_status::completed
                   : protocol::end_status::failed;
  auto elapsed = self->clock().now() - st.started_at;
  c.execution_time = duration_cast<duration<double>>(elapsed).count();
  return c;
}

/// Reports `done` once both pipes are closed and the child exited, and lets
/// the child be reaped: no signal of ours can follow.
void maybe_done(process_actor_type* self) {
  auto& st = self->state;
  if (!st.exited || !st.eof[0] || !st.eof[1])
    return;
  if (st.paused) { // stopped, then killed from outside
    st.paused = false;
    --st.stats->paused_processes;
  }
  auto c = make_completion(self);
  // Counted here, not in the session: a process the server ends with its
  // session (a clean close, linger expiry, a drain) reports to a session
  // that is gone, and must still count.
  st.stats->count_completion(c.status);
  *st.done = true;
  log::info(
      "process_exit",
      {{"pid", st.pid},
       {"status", protocol::to_string(c.status)},
       {"exit_code", c.exit_code ? boost::json::value(*c.exit_code) : nullptr},
       {"stdout_bytes", st.bytes[0]},
       {"stderr_bytes", st.bytes[1]}});
  self->send(st.session, done_atom::value, std::move(c));
  // What is left of the group (jobs that let go of the pipes) may live on.
  st.io->release(false);
  self->quit();
}

} // namespace

namespace process_parts {

void start_termination(process_actor_type* self, protocol::end_status why,
                       caf::timespan grace) {
  auto& st = self->state;
  if (st.terminating)
    return;
  st.terminating = true;
  st.end_status = why;
  log::info("process_signal", {{"pid", st.pid},
                               {"signal", "SIGTERM"},
                               {"reason", protocol::to_string(why)}});
  st.io->signal_group(SIGTERM);
  if (st.paused) {
    // A stopped process cannot act on SIGTERM until it runs again.
    st.io->signal_group(SIGCONT);
    st.paused = false;
    --st.stats->paused_processes;
  }
  ++st.timer_gen; // the wall and idle clocks are moot now
  arm(self, timer_kind::kill, grace);
}

void kill_group(process_actor_type* self) {
  auto& st = self->state;
  if (st.killed)
    return;
  st.killed = true;
  log::info("process_signal", {{"pid", st.pid}, {"signal", "SIGKILL"}});
  st.io->signal_group(SIGKILL);
  if (st.discard_output) {
    st.io->close_pipes();
  } else {
    arm(self, timer_kind::force_close, pipe_close_delay);
  }
}

} // namespace process_parts

namespace {

void on_read(process_actor_type* self, stream_kind stream, std::string& data,
             bool eof) {
  auto& st = self->state;
  auto idx = static_cast<int>(stream);
  st.credit -= std::min<std::uint64_t>(st.credit, data.size());
  st.reading[idx] = 0;
  if (st.discard_output) {
    st.eof[idx] = eof;
    pump_reads(self);
    maybe_done(self);
    return;
  }
  output_batch batch;
  batch.stream = stream;
  batch.raw_bytes = data.size();
  if (!data.empty()) {
    st.bytes[idx] += data.size();
    (idx == stdout_idx ? st.stats->stdout_bytes_total
                       : st.stats->stderr_bytes_total) += data.size();
    st.framers[idx]->feed(data, batch.pieces);
    if (st.idle_limit && !st.paused)
      st.idle_deadline = self->clock().now() + *st.idle_limit;
  }
  if (eof) {
    st.framers[idx]->finish(batch.pieces);
    st.eof[idx] = true;
  }
  if (batch.raw_bytes > 0 || !batch.pieces.empty())
    self->send(st.session, output_atom::value, std::move(batch));
  pump_reads(self);
  maybe_done(self);
}

protocol::control_status control(process_actor_type* self,
                                 protocol::control_type type) {
  auto& st = self->state;
  switch (type) {
  case protocol::control_type::pause:
    if (!st.paused && !st.terminating) {
      st.io->signal_group(SIGSTOP);
      st.paused = true;
      ++st.stats->paused_processes;
      pause_clocks(self);
      log::info("process_signal", {{"pid", st.pid}, {"signal", "SIGSTOP"}});
    }
    return protocol::control_status::paused;
  case protocol::control_type::resume:
    if (st.paused) {
      st.io->signal_group(SIGCONT);
      st.paused = false;
      --st.stats->paused_processes;
      resume_clocks(self);
      log::info("process_signal", {{"pid", st.pid}, {"signal", "SIGCONT"}});
    }
    return protocol::control_status::resumed;
  default:
    start_termination(self, protocol::end_status::canceled,
                      milliseconds{st.cfg->cancel_grace_ms});
    return protocol::control_status::canceled;
  }
}

/// Why a spawn failed, naming what failed: the working directory or the
/// program, with its path ("No such file or directory" alone does not say
/// which). Runs only after a failure, so the stat costs nothing otherwise.
std::string spawn_failure(const spawn_spec& spec,
                          const boost::system::error_code& ec) {
  auto& cwd = spec.params.cwd;
  struct stat sb;
  if (cwd) {
    if (::stat(cwd->c_str(), &sb) != 0)
      return "Cannot start process: cwd '" + *cwd +
             "': " + std::strerror(errno);
    if (!S_ISDIR(sb.st_mode))
      return "Cannot start process: cwd '" + *cwd + "': Not a directory";
  }
  auto& program =
      spec.params.argv.empty() ? spec.shell : spec.params.argv.front();
  if (ec.value() == ENOENT && program.find('/') == std::string::npos)
    return "Cannot start process: program '" + program + "' not found in PATH";
  return "Cannot start process: program '" + program + "': " + ec.message();
}

bool spawn_child(process_actor_type* self, const spawn_spec& spec,
                 const child_spawner& spawner) {
  auto& st = self->state;
  boost::system::error_code ec;
  st.io = spawner(spec, caf::actor_cast<caf::actor>(self), ec);
  if (!st.io) {
    auto code = ec.value() == ENOENT || ec.value() == EACCES ||
                        ec.value() == ENOTDIR || ec.value() == ENOEXEC
                    ? protocol::error_code::invalid_params
                    : protocol::error_code::internal_error;
    auto what = spawn_failure(spec, ec);
    ++st.stats->spawn_failures_total;
    log::warn("spawn_failed", {{"error", what}});
    self->send(st.session, failed_atom::value, static_cast<int>(code), what);
    return false;
  }
  st.pid = st.io->pid();
  ++st.stats->processes_total;
  ++st.stats->running_processes;
  st.stdin_closed = !spec.params.stdin_pipe;
  st.max_read = spec.params.framing == protocol::framing_mode::chunks
                    ? st.cfg->chunks_read_bytes
                    : st.cfg->read_chunk_bytes;
  // An unterminated line is held back up to 1 MiB per stream before it
  // goes out in pieces: the framer's share of the memory bound.
  protocol::framer_limits limits;
  limits.max_pending_bytes = 1 << 20;
  for (auto& f : st.framers)
    f.emplace(spec.params.framing, limits);
  log::info("spawn",
            {{"pid", st.pid},
             {"command", spec.params.command
                             ? boost::json::value(*spec.params.command)
                             : boost::json::value(spec.params.argv[0])}});
  self->send(st.session, started_atom::value, st.pid, st.pid);
  start_clocks(self, spec.params);
  st.io->wait();
  return true;
}

} // namespace

caf::behavior process_actor(process_actor_type* self, caf::actor session,
                            spawn_spec spec, child_spawner spawner,
                            std::shared_ptr<const settings> cfg,
                            std::shared_ptr<server_stats> stats) {
  auto& st = self->state;
  st.session = std::move(session);
  st.cfg = std::move(cfg);
  st.stats = std::move(stats);
  if (!spawn_child(self, spec, spawner)) {
    self->quit();
    return {};
  }
  // Whatever else ends this actor, the group goes with it (after `done`
  // this does nothing: the child was released then).
  // (The state is gone when this runs: the flag is shared.)
  self->attach_functor([done = st.done, io = st.io, stats = st.stats] {
    io->release(true);
    --stats->running_processes;
    // Ended without `done` (the actor failed): the session reports it as
    // failed, and it counts as such.
    if (!*done)
      stats->count_completion(protocol::end_status::failed);
  });
  return {
      [=](credit_atom, std::uint64_t n) {
        self->state.credit += n;
        pump_reads(self);
      },
      [=](read_atom, stream_kind stream, std::string& data, bool eof) {
        on_read(self, stream, data, eof);
      },
      [=](exited_atom, int status) {
        self->state.exited = true;
        self->state.wait_status = status;
        maybe_done(self);
      },
      [=](wait_failed_atom, std::string& error) {
        self->state.exited = true;
        self->state.wait_error = std::move(error);
        maybe_done(self);
      },
      [=](control_atom, protocol::control_type type) {
        return control(self, type);
      },
      // MCP's interrupt, terminate and kill: one signal to the group, no
      // ladder (cancel is `control`'s). A stopped group gets SIGCONT too,
      // or it would not act on the signal until resumed.
      [=](signal_atom, int sig) {
        auto& st = self->state;
        log::info("process_signal", {{"pid", st.pid}, {"signal", sig}});
        st.io->signal_group(sig);
        if (st.paused && sig != SIGKILL)
          st.io->signal_group(SIGCONT);
      },
      [=](input_atom, std::string& data, bool eof) {
        return input(self, data, eof);
      },
      [=](wrote_atom, std::uint64_t n, int err) { on_wrote(self, n, err); },
      [=](timer_atom, timer_kind kind, std::uint64_t gen) {
        on_timer(self, kind, gen);
      },
      [=](terminate_atom, std::uint64_t grace_ms) {
        // The session is ending: nobody will read the rest of the output.
        auto& st = self->state;
        st.discard_output = true;
        st.credit = std::numeric_limits<std::uint64_t>::max() / 2;
        pump_reads(self);
        start_termination(self, protocol::end_status::canceled,
                          milliseconds{grace_ms});
        if (st.killed)
          st.io->close_pipes();
      },
  };
}

} // namespace actorexec
