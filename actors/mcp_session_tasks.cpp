// The MCP session's tasks (revision 2025-11-25): a task-augmented
// run_command answered at once with its task, then tasks/get, tasks/result,
// tasks/list and tasks/cancel, and the ttl after which a task, its output
// and its process are gone (see mcp_session_parts.hpp for how the actor is
// split).

#include <algorithm>
#include <chrono>
#include <vector>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/mcp_session_parts.hpp"
#include "actors/supervisor.hpp"
#include "actors/timer_relay.hpp"

namespace actorexec::mcp_parts {

using namespace std::chrono;
namespace mcp = protocol::mcp;
namespace json = boost::json;
using mcp::task_status;
using protocol::error_code;

namespace {

/// What tasks/get suggests between polls.
constexpr std::uint64_t poll_interval_ms = 1000;

/// Tasks a session keeps; beyond it the oldest terminal one is forgotten
/// (a working one holds a running process, and those are fewer).
constexpr std::size_t max_tasks = 32;

/// Tasks per tasks/list page.
constexpr std::size_t list_page = 20;

mcp_task* find_task(mcp_session_state& st, const std::string& id) {
  auto i = st.tasks.find(id);
  return i == st.tasks.end() ? nullptr : &i->second;
}

/// `notifications/tasks/status` on the session's GET stream, where one is
/// open (the spec makes it optional: clients poll).
void notify_status(self_type self, const mcp_task& t) {
  auto& st = self->state;
  auto s = st.streams.find(st.listen_stream);
  if (s == st.streams.end() || s->second.done)
    return;
  emit(self, st.listen_stream,
       mcp::encode_notification("notifications/tasks/status",
                                mcp::task_object(t.view)));
}

void set_status(self_type self, mcp_task& t, task_status status,
                std::string message) {
  t.view.status = status;
  t.view.status_message = std::move(message);
  t.view.updated_at = log::utc_seconds();
  log::info("mcp_task_status", {{"session_id", self->state.id},
                                {"task_id", t.view.id},
                                {"status", mcp::to_string(status)}});
  notify_status(self, t);
}

/// Answers the tasks/result calls waiting on task `id` with what there is.
void answer_results(self_type self, const std::string& id) {
  std::vector<std::uint64_t> due;
  for (auto& [stream, w] : self->state.waits)
    if (w.task_id == id)
      due.push_back(stream);
  for (auto stream : due)
    answer(self, stream);
}

/// Forgets task `id`: its waiting tasks/result calls hear that it is gone,
/// its process (killed if it still runs) and its output go with it.
void forget_task(self_type self, std::string id) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end())
    return;
  auto pid = i->second.process_id;
  st.tasks.erase(i);
  answer_results(self, id); // the task is gone: they get -32602
  if (auto* p = find(st, pid)) {
    if (p->state != mcp_process::phase::done && p->actor)
      self->send(p->actor, terminate_atom::value, std::uint64_t{0});
    st.by_actor.erase(p->actor.address());
    st.processes.erase(pid);
  }
}

/// Makes room for one more task: forgets the oldest terminal one.
void make_room(self_type self) {
  auto& st = self->state;
  if (st.tasks.size() < max_tasks)
    return;
  const mcp_task* oldest = nullptr;
  for (auto& [id, t] : st.tasks)
    if (mcp::terminal(t.view.status) && (!oldest || t.seq < oldest->seq))
      oldest = &t;
  if (oldest != nullptr)
    forget_task(self, oldest->view.id);
}

/// The task as tasks/get shows it: while it works, its latest output line.
json::object current(mcp_session_state& st, mcp_task& t) {
  if (t.view.status == task_status::working)
    if (auto* p = find(st, t.process_id))
      t.view.status_message = p->output.last_line();
  return mcp::task_object(t.view);
}

/// Why a process's task failed, for `statusMessage`.
std::string failure(const mcp_process& p) {
  auto& c = *p.completion;
  if (c.status == protocol::end_status::timed_out)
    return "timed out (timeout_s)";
  if (c.signal)
    return "killed by signal " + std::to_string(*c.signal);
  if (c.exit_code)
    return "exited with code " + std::to_string(*c.exit_code);
  return c.error.value_or("ended without an exit status");
}

void get_task(self_type self, std::uint64_t stream, mcp::message& msg,
              mcp_task& t) {
  respond_result(self, stream, msg.id, current(self->state, t));
}

void task_result(self_type self, std::uint64_t stream, mcp::message& msg,
                 mcp_task& t) {
  mcp_wait w{msg.id, stream, t.process_id, t.args,   std::nullopt,
             0,      0,      false,        t.view.id};
  if (mcp::terminal(t.view.status))
    return answer_task_result(self, w);
  // It blocks until the end; the ttl comes first and answers it if the
  // end does not (a wait of 0 would be answered as soon as it started).
  auto& args = std::get<mcp::run_command_args>(w.args);
  args.wait_s = static_cast<double>(t.view.ttl_ms) / 1000 + 1;
  add_wait(self, std::move(w), args.wait_s);
}

void cancel_task(self_type self, std::uint64_t stream, mcp::message& msg,
                 mcp_task& t) {
  if (mcp::terminal(t.view.status))
    return respond_error(
        self, stream, msg.id,
        protocol::make_error(
            error_code::invalid_params,
            "Cannot cancel task: already in terminal status '" +
                std::string{mcp::to_string(t.view.status)} + "'"));
  // The ladder (SIGTERM, grace, SIGKILL) to the whole process group.
  if (auto* p = find(self->state, t.process_id);
      p && p->state != mcp_process::phase::done)
    self->send(p->actor, control_atom::value, protocol::control_type::cancel);
  set_status(self, t, task_status::cancelled,
             "The task was cancelled by request.");
  answer_results(self, t.view.id);
  respond_result(self, stream, msg.id, mcp::task_object(t.view));
}

void list_tasks(self_type self, std::uint64_t stream, mcp::message& msg) {
  auto& st = self->state;
  auto from = mcp::decode_task_cursor(msg.params);
  if (auto err = std::get_if<protocol::rpc_error>(&from))
    return respond_error(self, stream, msg.id, *err);
  std::vector<mcp_task*> order;
  for (auto& kv : st.tasks)
    if (kv.second.seq >= std::get<std::uint64_t>(from))
      order.push_back(&kv.second);
  std::sort(order.begin(), order.end(),
            [](auto* a, auto* b) { return a->seq < b->seq; });
  json::array page;
  for (std::size_t i = 0; i < order.size() && i < list_page; ++i)
    page.push_back(current(st, *order[i]));
  json::object out{{"tasks", std::move(page)}};
  if (order.size() > list_page)
    out["nextCursor"] = mcp::encode_task_cursor(order[list_page]->seq);
  respond_result(self, stream, msg.id, std::move(out));
}

} // namespace

void create_task(self_type self, std::uint64_t stream,
                 const protocol::request_id& id, std::string process_id,
                 mcp::run_command_args args, const mcp::task_request& req,
                 std::optional<std::string> refused) {
  auto& st = self->state;
  make_room(self);
  mcp_task t;
  t.seq = st.next_task++;
  // Bound to this session, and unguessable besides.
  t.view.id = make_uuid_v4();
  t.view.created_at = t.view.updated_at = log::utc_seconds();
  auto max_ttl = st.cfg->mcp_task_max_ttl_ms;
  t.view.ttl_ms = std::min(req.ttl_ms.value_or(max_ttl), max_ttl);
  t.view.poll_ms = poll_interval_ms;
  t.process_id = std::move(process_id);
  t.args = std::move(args);
  if (refused) {
    t.view.status = task_status::failed;
    t.view.status_message = *refused;
    t.result = mcp::tool_error(*refused);
  }
  arm_timer(self, milliseconds{t.view.ttl_ms}, timer_kind::task_ttl, t.seq);
  log::info("mcp_task", {{"session_id", st.id},
                         {"task_id", t.view.id},
                         {"process_id", t.process_id},
                         {"ttl_ms", t.view.ttl_ms}});
  json::object out{{"task", mcp::task_object(t.view)}};
  st.tasks.emplace(t.view.id, std::move(t));
  respond_result(self, stream, id, std::move(out));
}

bool on_task_request(self_type self, std::uint64_t stream, mcp::message& msg) {
  auto& m = msg.method;
  if (m == "tasks/list") {
    list_tasks(self, stream, msg);
    return true;
  }
  if (m != "tasks/get" && m != "tasks/result" && m != "tasks/cancel")
    return false;
  auto id = mcp::decode_task_id(msg.params);
  if (auto err = std::get_if<protocol::rpc_error>(&id)) {
    respond_error(self, stream, msg.id, *err);
    return true;
  }
  auto* t = find_task(self->state, std::get<std::string>(id));
  if (t == nullptr)
    respond_error(self, stream, msg.id,
                  mcp::unknown_task(std::get<std::string>(id)));
  else if (m == "tasks/get")
    get_task(self, stream, msg, *t);
  else if (m == "tasks/result")
    task_result(self, stream, msg, *t);
  else
    cancel_task(self, stream, msg, *t);
  return true;
}

void answer_task_result(self_type self, mcp_wait& w) {
  auto& st = self->state;
  auto* t = find_task(st, w.task_id);
  if (t == nullptr)
    return respond_error(self, w.stream, w.request,
                         mcp::unknown_task(w.task_id));
  // A cancelled call has no answer, so its task has no result to give.
  if (t->view.status == task_status::cancelled)
    return respond_error(
        self, w.stream, w.request,
        protocol::make_error(error_code::invalid_params,
                             "Task " + t->view.id +
                                 " was cancelled: it has no result"));
  json::object result;
  if (t->result)
    result = *t->result;
  else if (auto* p = find(st, t->process_id))
    result = run_result(self, *p, t->args);
  else
    result = mcp::tool_error("process is gone");
  mcp::relate_to_task(result, t->view.id);
  respond_result(self, w.stream, w.request, std::move(result));
}

void task_process_ended(self_type self, const mcp_process& p) {
  for (auto& [id, t] : self->state.tasks) {
    if (t.process_id != p.id || t.view.status != task_status::working)
      continue;
    bool ok = p.completion && !p.completion->signal &&
              p.completion->exit_code == 0 &&
              p.completion->status != protocol::end_status::timed_out;
    if (ok)
      set_status(self, t, task_status::completed, {});
    else
      set_status(self, t, task_status::failed,
                 p.completion ? failure(p) : "ended");
  }
}

void task_process_failed(self_type self, const std::string& process_id,
                         const std::string& what) {
  for (auto& [id, t] : self->state.tasks) {
    if (t.process_id != process_id || t.view.status != task_status::working)
      continue;
    t.result = mcp::tool_error(what);
    set_status(self, t, task_status::failed, what);
  }
}

void on_task_ttl(self_type self, std::uint64_t gen) {
  auto& st = self->state;
  for (auto& [id, t] : st.tasks) {
    if (t.seq != gen)
      continue;
    log::info("mcp_task_expired", {{"session_id", st.id}, {"task_id", id}});
    forget_task(self, std::string{id});
    break;
  }
  maybe_linger(self);
}

bool backs_task(const mcp_session_state& st, const std::string& id) {
  for (auto& kv : st.tasks)
    if (kv.second.process_id == id)
      return true;
  return false;
}

} // namespace actorexec::mcp_parts
