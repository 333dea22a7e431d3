#include "loadtest/rpc_client.hpp"

#include <boost/json/serialize.hpp>

namespace json = boost::json;

namespace actorexec::loadtest {

std::uint64_t rpc_client::request(request_kind kind, std::string_view method,
                                  json::object params) {
  auto id = next_id_++;
  pending_[id] = kind;
  json::object msg{{"jsonrpc", "2.0"},
                   {"id", id},
                   {"method", method},
                   {"params", std::move(params)}};
  owner_.send(json::serialize(msg));
  return id;
}

std::uint64_t rpc_client::request_text(request_kind kind,
                                       std::string_view method,
                                       std::string_view params) {
  auto id = next_id_++;
  pending_[id] = kind;
  std::string text;
  text.reserve(params.size() + method.size() + 64);
  text.append(R"({"jsonrpc":"2.0","id":)")
      .append(std::to_string(id))
      .append(R"(,"method":")")
      .append(method)
      .append(R"(","params":)")
      .append(params)
      .append("}");
  owner_.send(std::move(text));
  return id;
}

void rpc_client::execute(const session_spec& spec) {
  json::object params{{"framing", spec.framing},
                      {"on_overflow", spec.on_overflow}};
  if (spec.command) {
    params["command"] = *spec.command;
  } else {
    json::array argv;
    for (const auto& a : spec.argv)
      argv.push_back(json::string{a});
    params["argv"] = std::move(argv);
  }
  // Open for the `stdin` text, or for an input flood.
  if (spec.stdin_data || spec.attack.what == attack_spec::kind::input_flood)
    params["stdin"] = true;
  if (spec.timeout_s)
    params["timeout"] = *spec.timeout_s;
  request(request_kind::execute, "execute", std::move(params));
}

void rpc_client::resume() {
  request(request_kind::resume, "resume",
          {{"session_id", session_id_},
           {"resume_token", resume_token_},
           {"last_seq", last_seq_}});
}

void rpc_client::ack() {
  // Without an id: the spec sends no response then.
  json::object msg{
      {"jsonrpc", "2.0"}, {"method", "ack"}, {"params", {{"seq", last_seq_}}}};
  owner_.send(json::serialize(msg));
}

// Frames are scanned for the members used below rather than parsed into a
// DOM: `f` lives in the phase's scanner until the next frame.
void rpc_client::handle(std::string_view frame) {
  if (!scanner_.scan(frame))
    return error("unparsable frame");
  const auto& f = scanner_.fields();
  if (!f.method.present)
    return handle_response(f);
  if (!f.method.is_string || !f.params_object)
    return error("malformed notification");
  handle_event(f.method.text, f);
}

void rpc_client::handle_event(std::string_view method, const rpc_fields& f) {
  if (method == "connected") {
    // Only the first one names our session; a resume's fresh connection
    // announces a throwaway session that the resume replaces.
    if (session_id_.empty()) {
      if (f.session_id.is_string)
        session_id_ = f.session_id.text;
      if (f.resume_token.is_string)
        resume_token_ = f.resume_token.text;
    }
    return;
  }
  if (method.substr(0, 8) != "process." && method != "stream.gap")
    return; // ping, server.shutdown
  auto seq_v = f.seq;
  if (!seq_v)
    return error("event without seq");
  auto seq = *seq_v;
  if (seq <= last_seq_)
    return error("duplicate seq"); // already processed: skip for exactness
  if (seq != last_seq_ + 1)
    error("seq gap");
  last_seq_ = seq;
  bool replayed = seq <= replay_until_;
  if (replayed)
    ++counts_.replay_frames;
  if (method == "process.output") {
    owner_.on_output(f, replayed);
  } else if (method == "process.started") {
    owner_.on_started();
  } else if (method == "process.completed") {
    owner_.on_completed(f);
  } else if (method == "stream.gap") {
    ++counts_.gap_events;
    counts_.gap_dropped_bytes += f.dropped_bytes.value_or(0);
    counts_.gap_dropped_frames += f.dropped_frames.value_or(0);
  } else if (method == "process.error") {
    error("process.error");
  }
}

void rpc_client::handle_response(const rpc_fields& f) {
  std::optional<request_kind> kind;
  if (auto id = f.id) {
    auto it = pending_.find(*id);
    if (it != pending_.end()) {
      kind = it->second;
      pending_.erase(it);
    }
  }
  // What follows the resumed session's last_seq is new; the rest replays.
  if (kind == request_kind::resume && !f.error && f.result_object)
    replay_until_ = f.result_last_seq.value_or(0);
  owner_.on_response(kind, f);
}

} // namespace actorexec::loadtest
