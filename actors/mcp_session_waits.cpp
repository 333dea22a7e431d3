// The MCP session's processes as its calls see them: what a process says
// (started, output, done), and the calls that wait on it, answered when it
// ends, when output comes, or when their wait runs out (see
// mcp_session_parts.hpp for how the actor is split).

#include <chrono>
#include <ctime>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/mcp_session_parts.hpp"
#include "actors/process.hpp"
#include "actors/timer_relay.hpp"

namespace actorexec::mcp_parts {

using namespace std::chrono;
namespace mcp = protocol::mcp;
namespace json = boost::json;

namespace {

/// How often a waiting call with a progress token hears of output.
constexpr auto progress_period = milliseconds{1000};

/// The fields a page of output puts in a result.
void put_page(json::object& out, const mcp_output::page& page,
              mcp::stream_filter filter) {
  using mcp::stream_filter;
  auto put = [&out](const char* key, const char* enc, std::string_view bytes) {
    auto text = mcp::render_bytes(bytes);
    out[key] = std::move(text.text);
    if (text.base64)
      out[enc] = "base64";
  };
  put("stdout", "stdout_encoding",
      filter == stream_filter::stderr_only ? std::string_view{} : page.out);
  put("stderr", "stderr_encoding",
      filter == stream_filter::stdout_only ? std::string_view{} : page.err);
  out["cursor"] = mcp::encode_cursor(page.next);
}

void answer_run(self_type self, mcp_wait& w) {
  auto* p = find(self->state, w.process_id);
  if (p == nullptr)
    return tool_error(self, w.stream, w.request, "process is gone");
  respond_result(self, w.stream, w.request,
                 run_result(self, *p, std::get<mcp::run_command_args>(w.args)));
}

/// Answers the waits of process `id` that are satisfied: all of them when
/// it ended; reads when output came.
void wake(self_type self, const std::string& id, bool ended) {
  auto& st = self->state;
  std::vector<std::uint64_t> due;
  for (auto& [stream, w] : st.waits)
    if (w.process_id == id &&
        (ended || std::holds_alternative<mcp::read_output_args>(w.args)))
      due.push_back(stream);
  for (auto stream : due)
    answer(self, stream);
}

} // namespace

json::object run_result(self_type self, mcp_process& p,
                        const mcp::run_command_args& args) {
  auto page = p.output.read(0, args.max_output_bytes);
  json::object out{{"process_id", p.id},
                   {"pid", p.pid},
                   {"status", status_of(p)},
                   {"exit_code", exit_code_of(p)},
                   {"signal", signal_of(p)}};
  put_page(out, page, mcp::stream_filter::both);
  out["truncated"] = page.next < p.output.end();
  out["dropped_bytes"] = page.dropped;
  out["duration_s"] =
      p.completion
          ? p.completion->execution_time
          : duration_cast<duration<double>>(self->clock().now() - p.started)
                .count();
  auto text = mcp::render_output_text(out);
  return mcp::tool_result(std::move(out), std::move(text));
}

void answer(self_type self, std::uint64_t stream) {
  auto& st = self->state;
  auto i = st.waits.find(stream);
  if (i == st.waits.end())
    return;
  auto w = std::move(i->second);
  st.waits.erase(i);
  if (!w.task_id.empty())
    answer_task_result(self, w);
  else if (std::holds_alternative<mcp::run_command_args>(w.args))
    answer_run(self, w);
  else
    answer_read(self, w);
}

mcp_process* find(mcp_session_state& st, const std::string& id) {
  auto i = st.processes.find(id);
  return i == st.processes.end() ? nullptr : i->second.get();
}

mcp_process* find(mcp_session_state& st, const caf::actor_addr& addr) {
  auto i = st.by_actor.find(addr);
  return i == st.by_actor.end() ? nullptr : find(st, i->second);
}

void tool_error(self_type self, std::uint64_t stream,
                const protocol::request_id& id, std::string reason) {
  log::info("mcp_tool_error",
            {{"session_id", self->state.id}, {"error", reason}});
  respond_result(self, stream, id, mcp::tool_error(std::move(reason)));
}

const char* status_of(const mcp_process& p) {
  if (p.state != mcp_process::phase::done || !p.completion)
    return "running";
  auto& c = *p.completion;
  if (c.status == protocol::end_status::timed_out)
    return "timed_out";
  // No exit code and no signal: the server's supervision ended it.
  return c.signal || !c.exit_code ? "killed" : "exited";
}

json::value exit_code_of(const mcp_process& p) {
  if (!p.completion || p.completion->signal || !p.completion->exit_code)
    return nullptr;
  return *p.completion->exit_code;
}

json::value signal_of(const mcp_process& p) {
  if (!p.completion || !p.completion->signal)
    return nullptr;
  return *p.completion->signal;
}

void grant_credit(self_type self, mcp_process& p) {
  if (p.state != mcp_process::phase::running)
    return;
  auto& cfg = *self->state.cfg;
  auto room = p.output.room(p.outstanding);
  auto worth = std::max<std::uint64_t>(
      1,
      std::min<std::uint64_t>(cfg.read_chunk_bytes, cfg.max_buffer_bytes / 4));
  if (room < worth)
    return;
  p.outstanding += room;
  self->send(p.actor, credit_atom::value, room);
}

void answer_read(self_type self, mcp_wait& w) {
  auto& st = self->state;
  auto* p = find(st, w.process_id);
  auto& args = std::get<mcp::read_output_args>(w.args);
  if (p == nullptr)
    return tool_error(self, w.stream, w.request,
                      "unknown process_id '" + w.process_id + "'");
  auto page = p->output.read(args.cursor.value_or(0), args.max_bytes);
  grant_credit(self, *p); // what the client had is released
  bool over = p->state == mcp_process::phase::done;
  json::object out{
      {"process_id", p->id},     {"eof", over && page.next >= p->output.end()},
      {"status", status_of(*p)}, {"exit_code", exit_code_of(*p)},
      {"signal", signal_of(*p)}, {"dropped_bytes", page.dropped}};
  put_page(out, page, args.stream);
  auto text = mcp::render_output_text(out);
  respond_result(self, w.stream, w.request,
                 mcp::tool_result(std::move(out), std::move(text)));
}

void add_wait(self_type self, mcp_wait w, double seconds) {
  auto& st = self->state;
  w.gen = st.next_gen++;
  arm_timer(self, duration_cast<caf::timespan>(duration<double>{seconds}),
            timer_kind::wait, w.gen);
  bool progress = w.progress_token.has_value();
  auto stream = w.stream;
  st.waits[stream] = std::move(w);
  if (progress && !st.ticking) {
    st.ticking = true;
    arm_timer(self, progress_period, timer_kind::progress, 0);
  }
}

std::size_t running_processes(const mcp_session_state& st) {
  std::size_t n = 0;
  for (auto& kv : st.processes)
    n += kv.second->state != mcp_process::phase::done ? 1 : 0;
  return n;
}

void on_started(self_type self, const caf::actor_addr& from, std::int64_t pid) {
  auto* p = find(self->state, from);
  if (p == nullptr)
    return;
  p->pid = pid;
  p->state = mcp_process::phase::running;
  p->started_at = log::utc_seconds();
  if (p->stdin_data) {
    // Written once it runs, then EOF. A request, whose answer nobody waits
    // for: a plain message would get its answer back as a message nobody
    // handles, and the error for that would end the process actor.
    self->request(p->actor, caf::infinite, input_atom::value,
                  std::move(*p->stdin_data), true)
        .then([](const input_result&) {}, [](caf::error&) {});
    p->stdin_data.reset();
    p->stdin_open = false;
  }
  grant_credit(self, *p);
  // A run_command that does not wait, or whose wait ran out while the
  // process started, is answered now.
  auto& st = self->state;
  std::vector<std::uint64_t> due;
  for (auto& [stream, w] : st.waits)
    if (w.process_id == p->id)
      if (auto* a = std::get_if<mcp::run_command_args>(&w.args);
          a && (a->wait_s == 0 || w.expired))
        due.push_back(stream);
  for (auto stream : due)
    answer(self, stream);
}

void on_failed(self_type self, const caf::actor_addr& from, std::string what) {
  auto& st = self->state;
  auto* p = find(st, from);
  if (p == nullptr)
    return;
  auto id = p->id;
  std::vector<mcp_wait> failed;
  for (auto i = st.waits.begin(); i != st.waits.end();)
    if (i->second.process_id == id && i->second.task_id.empty()) {
      failed.push_back(std::move(i->second));
      i = st.waits.erase(i);
    } else {
      ++i;
    }
  st.by_actor.erase(from);
  st.processes.erase(id);
  // Its task keeps what happened as its result; its tasks/result calls get
  // it now.
  task_process_failed(self, id, what);
  for (auto& w : failed)
    tool_error(self, w.stream, w.request, what);
  wake(self, id, true);
}

void on_output(self_type self, const caf::actor_addr& from,
               output_batch& batch) {
  auto* p = find(self->state, from);
  if (p == nullptr)
    return;
  p->outstanding -= std::min(p->outstanding, batch.raw_bytes);
  for (auto& piece : batch.pieces)
    p->output.append(batch.stream, protocol::piece_bytes(piece));
  grant_credit(self, *p);
  wake(self, p->id, false);
}

void on_done(self_type self, const caf::actor_addr& from,
             protocol::completion& c) {
  auto* p = find(self->state, from);
  if (p == nullptr || p->state == mcp_process::phase::done)
    return;
  p->state = mcp_process::phase::done;
  p->completion = std::move(c);
  log::info("mcp_process_end", {{"session_id", self->state.id},
                                {"process_id", p->id},
                                {"status", status_of(*p)}});
  task_process_ended(self, *p);
  wake(self, p->id, true);
  if (self->state.draining && running_processes(self->state) == 0)
    self->send(self, timer_atom::value, timer_kind::drain, std::uint64_t{0});
}

void on_wait_timer(self_type self, std::uint64_t gen) {
  auto& st = self->state;
  for (auto& [stream, w] : st.waits) {
    if (w.gen != gen)
      continue;
    // A process still starting has no pid to report yet.
    auto* p = find(st, w.process_id);
    if (p && p->state == mcp_process::phase::starting) {
      w.expired = true;
      return;
    }
    return answer(self, stream);
  }
}

void on_progress_tick(self_type self) {
  auto& st = self->state;
  bool any = false;
  for (auto& [stream, w] : st.waits) {
    if (!w.progress_token)
      continue;
    any = true;
    auto* p = find(st, w.process_id);
    if (p == nullptr || p->output.end() == w.progress_sent)
      continue;
    w.progress_sent = p->output.end();
    emit(self, stream,
         mcp::encode_progress(*w.progress_token, w.progress_sent,
                              p->output.last_line()));
  }
  st.ticking = any;
  if (any)
    arm_timer(self, progress_period, timer_kind::progress, 0);
}

void terminate_processes(self_type self, std::uint64_t grace_ms) {
  for (auto& [id, p] : self->state.processes)
    if (p->state != mcp_process::phase::done && p->actor)
      self->send(p->actor, terminate_atom::value, grace_ms);
}

} // namespace actorexec::mcp_parts
