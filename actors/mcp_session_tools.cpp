// The MCP session's tools: run_command, read_output, send_input,
// signal_process, list_processes (see mcp_session_parts.hpp for how the
// actor is split; what a process says and the calls that wait on it are in
// mcp_session_waits.cpp).

#include <signal.h>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/mcp_session_parts.hpp"
#include "actors/process.hpp"

namespace actorexec::mcp_parts {

using namespace std::chrono;
namespace mcp = protocol::mcp;
namespace json = boost::json;

namespace {

/// Processes a session keeps (running or over, with their unread output);
/// beyond it the oldest finished one no task holds is forgotten.
constexpr std::size_t max_kept_processes = 32;

// -- the tools ---------------------------------------------------------------

/// Why `run_command` may not start `a` here, if it may not.
std::optional<std::string> refusal(const mcp_session_state& st,
                                   const mcp::run_command_args& a) {
  auto& cfg = *st.cfg;
  if (st.draining)
    return "the server is shutting down";
  if (cfg.no_shell && a.exec.command)
    return "shell commands are disabled on this server (--no-shell): use argv";
  if (auto err = cfg.allowed.check(a.exec))
    return err->message;
  if (!cfg.allowed.empty())
    if (auto err = cfg.allowed_env.check(a.exec))
      return err->message;
  if (running_processes(st) >= cfg.mcp_max_processes)
    return "limit reached: " + std::to_string(cfg.mcp_max_processes) +
           " processes already run in this session (--mcp-max-processes)";
  return std::nullopt;
}

/// Makes room for one more process: forgets the oldest finished one.
void evict(mcp_session_state& st) {
  if (st.processes.size() < max_kept_processes)
    return;
  for (auto i = st.processes.begin(); i != st.processes.end(); ++i)
    if (i->second->state == mcp_process::phase::done &&
        !backs_task(st, i->first)) {
      st.by_actor.erase(i->second->actor.address());
      st.processes.erase(i);
      return;
    }
}

std::string command_text(const protocol::execute_params& p) {
  if (p.command)
    return *p.command;
  std::string out;
  for (auto& a : p.argv)
    out += (out.empty() ? "" : " ") + a;
  return out;
}

void run_command(self_type self, std::uint64_t stream,
                 const protocol::request_id& id, mcp::run_command_args& a,
                 std::optional<json::value> token,
                 const std::optional<mcp::task_request>& task) {
  auto& st = self->state;
  if (auto why = refusal(st, a)) {
    // A task-augmented call gets its task either way: a failed one.
    if (task)
      return create_task(self, stream, id, {}, std::move(a), *task, *why);
    return tool_error(self, stream, id, *why);
  }
  evict(st);
  auto proc = std::make_unique<mcp_process>(st.cfg->max_buffer_bytes,
                                            a.exec.on_overflow);
  proc->id = "p" + std::to_string(st.next_process++);
  proc->command = command_text(a.exec);
  proc->stdin_data = std::move(a.stdin_data);
  proc->started = self->clock().now();
  // The MCP contract: `command` is run by /bin/sh.
  spawn_spec spec{a.exec, "sh", st.cfg->scrub_env, st.cfg->rlimits,
                  st.cfg->run_as};
  proc->actor = self->spawn<caf::monitored>(process_actor, caf::actor{self},
                                            std::move(spec), st.spawner, st.cfg,
                                            st.stats);
  st.by_actor[proc->actor.address()] = proc->id;
  auto pid = proc->id;
  st.processes[pid] = std::move(proc);
  log::info("mcp_run", {{"session_id", st.id}, {"process_id", pid}});
  if (task)
    return create_task(self, stream, id, pid, std::move(a), *task,
                       std::nullopt);
  mcp_wait w{id, stream, pid, a, std::move(token), 0, 0, false};
  add_wait(self, std::move(w), a.wait_s);
}

void read_output(self_type self, std::uint64_t stream,
                 const protocol::request_id& id, mcp::read_output_args& a,
                 std::optional<json::value> token) {
  auto& st = self->state;
  auto* p = find(st, a.process_id);
  if (p == nullptr)
    return tool_error(self, stream, id,
                      "unknown process_id '" + a.process_id + "'");
  auto from = a.cursor.value_or(0);
  bool ready = p->state == mcp_process::phase::done || p->output.end() > from ||
               a.wait_s == 0;
  mcp_wait w{id, stream, a.process_id, a, std::move(token), 0, 0, false};
  if (ready) {
    answer_read(self, w);
    return;
  }
  p->output.release(from);
  grant_credit(self, *p);
  add_wait(self, std::move(w), a.wait_s);
}

void send_input(self_type self, std::uint64_t stream,
                const protocol::request_id& id, mcp::send_input_args& a) {
  auto& st = self->state;
  auto* p = find(st, a.process_id);
  if (p == nullptr)
    return tool_error(self, stream, id,
                      "unknown process_id '" + a.process_id + "'");
  if (p->state != mcp_process::phase::running || !p->stdin_open)
    return tool_error(self, stream, id,
                      "process " + p->id + " does not take input: " +
                          (p->state == mcp_process::phase::done
                               ? "it has ended"
                               : "its stdin is closed"));
  if (a.eof)
    p->stdin_open = false;
  auto pid = p->id;
  self->request(p->actor, caf::infinite, input_atom::value, std::move(a.data),
                a.eof)
      .then(
          [=](const input_result& r) {
            auto* p = find(self->state, pid);
            if (r.error != 0) {
              if (p &&
                  r.error != static_cast<int>(protocol::error_code::stdin_busy))
                p->stdin_open = false;
              return tool_error(self, stream, id, r.message);
            }
            json::object out{{"accepted_bytes", r.written},
                             {"stdin_open", p != nullptr && p->stdin_open}};
            auto text = std::to_string(r.written) + " bytes written" +
                        (p && p->stdin_open ? "" : "; stdin is closed");
            respond_result(self, stream, id,
                           mcp::tool_result(std::move(out), std::move(text)));
          },
          [=](caf::error&) {
            tool_error(self, stream, id, "process " + pid + " has ended");
          });
}

void signal_process(self_type self, std::uint64_t stream,
                    const protocol::request_id& id,
                    mcp::signal_process_args& a) {
  auto& st = self->state;
  auto* p = find(st, a.process_id);
  if (p == nullptr)
    return tool_error(self, stream, id,
                      "unknown process_id '" + a.process_id + "'");
  if (p->state != mcp_process::phase::running)
    return tool_error(self, stream, id,
                      "process " + p->id +
                          (p->state == mcp_process::phase::done
                               ? " has ended"
                               : " has not started yet"));
  using mcp::signal_action;
  auto pid = p->pid;
  auto answer_status = [=](std::string status) {
    json::object out{{"status", status}, {"pid", pid}};
    respond_result(self, stream, id,
                   mcp::tool_result(std::move(out), "process " + status));
  };
  auto failed = [=](caf::error&) {
    tool_error(self, stream, id, "process " + a.process_id + " has ended");
  };
  switch (a.action) {
  case signal_action::pause:
  case signal_action::resume:
  case signal_action::cancel: {
    auto type = a.action == signal_action::pause ? protocol::control_type::pause
                : a.action == signal_action::resume
                    ? protocol::control_type::resume
                    : protocol::control_type::cancel;
    self->request(p->actor, caf::infinite, control_atom::value, type)
        .then(
            [=](protocol::control_status s) {
              answer_status(protocol::to_string(s));
            },
            failed);
    return;
  }
  default: {
    int sig = a.action == signal_action::interrupt   ? SIGINT
              : a.action == signal_action::terminate ? SIGTERM
                                                     : SIGKILL;
    auto status = a.action == signal_action::interrupt   ? "interrupted"
                  : a.action == signal_action::terminate ? "terminated"
                                                         : "killed";
    self->request(p->actor, caf::infinite, signal_atom::value, sig)
        .then([=]() { answer_status(status); }, failed);
  }
  }
}

void list_processes(self_type self, std::uint64_t stream,
                    const protocol::request_id& id) {
  json::array list;
  std::string text;
  for (auto& [pid, p] : self->state.processes) {
    list.push_back(json::object{
        {"process_id", p->id},
        {"pid", p->pid},
        {"command", p->command},
        {"status", status_of(*p)},
        {"exit_code", exit_code_of(*p)},
        {"started_at", p->started_at},
        {"stdout_bytes", p->output.produced(protocol::stream_kind::out)},
        {"stderr_bytes", p->output.produced(protocol::stream_kind::err)}});
    text += p->id + " (pid " + std::to_string(p->pid) + ") " + status_of(*p) +
            ": " + p->command + "\n";
  }
  if (text.empty())
    text = "no processes\n";
  respond_result(self, stream, id,
                 mcp::tool_result(json::object{{"processes", std::move(list)}},
                                  std::move(text)));
}

} // namespace

void call_tool(self_type self, std::uint64_t stream,
               const protocol::request_id& id, mcp::tool_call& call) {
  std::visit(
      [&](auto& args) {
        using T = std::decay_t<decltype(args)>;
        if constexpr (std::is_same_v<T, mcp::run_command_args>)
          run_command(self, stream, id, args, call.progress_token, call.task);
        else if constexpr (std::is_same_v<T, mcp::read_output_args>)
          read_output(self, stream, id, args, call.progress_token);
        else if constexpr (std::is_same_v<T, mcp::send_input_args>)
          send_input(self, stream, id, args);
        else if constexpr (std::is_same_v<T, mcp::signal_process_args>)
          signal_process(self, stream, id, args);
        else
          list_processes(self, stream, id);
      },
      call.args);
}

void on_cancelled(self_type self, const protocol::request_id& id) {
  auto& st = self->state;
  for (auto i = st.waits.begin(); i != st.waits.end(); ++i) {
    if (i->second.request != id)
      continue;
    auto w = std::move(i->second);
    st.waits.erase(i);
    log::info("mcp_cancelled",
              {{"session_id", st.id}, {"process_id", w.process_id}});
    // A tasks/result that is cancelled leaves its task running: the task
    // is the client's to cancel (tasks/cancel).
    if (std::holds_alternative<mcp::run_command_args>(w.args) &&
        w.task_id.empty())
      if (auto* p = find(st, w.process_id);
          p && p->state != mcp_process::phase::done)
        self->send(p->actor, control_atom::value,
                   protocol::control_type::cancel);
    // A cancelled call gets no answer; its stream is over.
    if (auto s = st.streams.find(w.stream); s != st.streams.end()) {
      s->second.done = true;
      if (auto sink = std::move(s->second.sink))
        sink->done();
    }
    maybe_linger(self);
    return;
  }
}

} // namespace actorexec::mcp_parts
