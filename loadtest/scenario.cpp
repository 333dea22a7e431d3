#include "loadtest/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/json/parse.hpp>

#include "loadtest/json_fields.hpp"
#include "loadtest/stress_suite.hpp"

namespace json = boost::json;

namespace actorexec::loadtest {

using namespace json_fields;

namespace {

verify_spec parse_verify(const json::value& v, const std::string& path) {
  const auto& obj = as_object(v, path);
  reject_unknown(obj, path, {"seq", "text", "line", "count"});
  verify_spec out;
  auto kinds = obj.count("seq") + obj.count("text") + obj.count("line");
  if (kinds != 1)
    fail(path, "needs exactly one of seq, text or line");
  if (auto* seq = obj.if_contains("seq")) {
    auto p = join(path, "seq");
    const auto& arr = as_array(*seq, p);
    if (arr.size() != 2)
      fail(p, "must be [first, last]");
    out.what = verify_spec::kind::seq;
    out.seq_from = as_int(arr[0], index_path(p, 0));
    out.seq_to = as_int(arr[1], index_path(p, 1));
    if (out.seq_from > out.seq_to)
      fail(p, "first must not exceed last");
  } else if (auto* text = obj.if_contains("text")) {
    out.what = verify_spec::kind::text;
    out.text = as_string(*text, join(path, "text"));
  } else {
    out.what = verify_spec::kind::repeat_line;
    out.text = as_string(obj.at("line"), join(path, "line"));
    auto* count = obj.if_contains("count");
    if (count == nullptr)
      fail(join(path, "count"), "is required with line");
    out.count = as_uint(*count, join(path, "count"), 0, u64_max);
  }
  if (out.what != verify_spec::kind::repeat_line && obj.contains("count"))
    fail(join(path, "count"), "is only valid with line");
  return out;
}

const std::set<std::string_view> session_keys = {
    "name",
    "weight",
    "raw",
    "command",
    "argv",
    "framing",
    "on_overflow",
    "stdin",
    "repeat",
    "repeat_delay_ms",
    "timeout",
    "slow_reader_ms",
    "stall_after_bytes",
    "stall_ms",
    "drop_after_bytes",
    "drop_probability",
    "max_drops",
    "resume",
    "reconnect_delay_ms",
    "ack_every",
    "cancel_after_ms",
    "expected_patterns",
    "verify",
    "expected_exit_code",
    "expected_messages",
    "timeout_ms",
    "attack",
};

/// Applies the fields present in `obj` onto `s`, so that a phase's session
/// refines the scenario's `session_defaults`.
void apply_session(session_spec& s, const json::object& obj,
                   const std::string& path) {
  reject_unknown(obj, path, session_keys);
  auto field = [&](std::string_view key) { return join(path, key); };
  for (const auto& kv : obj) {
    auto key = kv.key();
    const auto& v = kv.value();
    auto p = field(key);
    if (key == "name") {
      s.name = as_string(v, p);
    } else if (key == "weight") {
      s.weight = static_cast<std::uint32_t>(as_uint(v, p, 1, 1000000));
    } else if (key == "raw") {
      s.raw = as_bool(v, p);
    } else if (key == "command") {
      s.command = as_string(v, p);
      s.argv.clear();
    } else if (key == "argv") {
      s.argv = as_strings(v, p);
      if (s.argv.empty())
        fail(p, "must not be empty");
      s.command.reset();
    } else if (key == "framing") {
      s.framing = as_string(v, p);
      if (s.framing != "lines" && s.framing != "chunks")
        fail(p, "must be \"lines\" or \"chunks\"");
    } else if (key == "on_overflow") {
      s.on_overflow = as_string(v, p);
      if (s.on_overflow != "block" && s.on_overflow != "drop_oldest")
        fail(p, "must be \"block\" or \"drop_oldest\"");
    } else if (key == "stdin") {
      s.stdin_data = as_string(v, p);
    } else if (key == "repeat") {
      s.repeat = static_cast<std::uint32_t>(as_uint(v, p, 1, 1000000));
    } else if (key == "repeat_delay_ms") {
      s.repeat_delay_ms = static_cast<std::uint32_t>(as_uint(v, p, 0, 600000));
    } else if (key == "timeout") {
      auto t = as_number(v, p);
      if (!(t > 0))
        fail(p, "must be a positive number of seconds");
      s.timeout_s = t;
    } else if (key == "slow_reader_ms") {
      s.slow_reader_ms = static_cast<std::uint32_t>(as_uint(v, p, 0, 60000));
    } else if (key == "stall_after_bytes") {
      s.stall_after_bytes = as_uint(v, p, 0, u64_max);
    } else if (key == "stall_ms") {
      s.stall_ms = static_cast<std::uint32_t>(as_uint(v, p, 0, 3600000));
    } else if (key == "drop_after_bytes") {
      s.drop_after_bytes = as_uint(v, p, 1, u64_max);
    } else if (key == "drop_probability") {
      s.drop_probability = as_number(v, p);
      if (s.drop_probability < 0 || s.drop_probability > 1)
        fail(p, "must be from 0 to 1");
    } else if (key == "max_drops") {
      s.max_drops = static_cast<std::uint32_t>(as_uint(v, p, 0, 100000));
    } else if (key == "resume") {
      s.resume = as_bool(v, p);
    } else if (key == "reconnect_delay_ms") {
      s.reconnect_delay_ms =
          static_cast<std::uint32_t>(as_uint(v, p, 0, 600000));
    } else if (key == "ack_every") {
      s.ack_every = static_cast<std::uint32_t>(as_uint(v, p, 0, u32_max));
    } else if (key == "cancel_after_ms") {
      s.cancel_after_ms = static_cast<std::uint32_t>(as_uint(v, p, 0, u32_max));
    } else if (key == "expected_patterns") {
      s.expected_patterns = as_strings(v, p);
    } else if (key == "verify") {
      s.verify = parse_verify(v, p);
    } else if (key == "expected_exit_code") {
      s.expected_exit_code = as_int(v, p);
    } else if (key == "expected_messages") {
      s.expected_messages = as_uint(v, p, 0, u64_max);
    } else if (key == "timeout_ms") {
      s.timeout_ms = static_cast<std::uint32_t>(as_uint(v, p, 1, u32_max));
    } else if (key == "attack") {
      s.attack = parse_attack_spec(v, p);
    }
  }
}

/// Checks that need the whole session (defaults merged in).
void check_session(const session_spec& s, const std::string& path) {
  bool attack = s.attack.what != attack_spec::kind::none;
  // Floods of requests, frames or pings start no process.
  bool needs_process = attack ? s.attack.runs_process() : !s.raw;
  if (needs_process && !s.command && s.argv.empty())
    fail(path, "needs command or argv");
  if (attack && s.raw)
    fail(join(path, "raw"), "an attack speaks JSON-RPC");
  if (s.stall_after_bytes && s.stall_ms == 0)
    fail(join(path, "stall_ms"), "is required with stall_after_bytes");
  if (!s.stall_after_bytes && s.stall_ms > 0)
    fail(join(path, "stall_after_bytes"), "is required with stall_ms");
  if (s.raw && (s.drop_after_bytes || s.drop_probability > 0))
    fail(join(path, "raw"), "raw sessions cannot drop and resume");
}

phase_spec parse_phase(const json::value& v, const std::string& path,
                       const session_spec& defaults) {
  const auto& obj = as_object(v, path);
  reject_unknown(obj, path,
                 {"name", "sessions", "concurrency", "ramp_up_ms",
                  "duration_cap_ms", "max_errors", "session", "mix"});
  phase_spec ph;
  ph.name = path;
  if (auto* x = obj.if_contains("name"))
    ph.name = as_string(*x, join(path, "name"));
  read_u32(obj, path, "sessions", ph.sessions, 1, 10000000);
  read_u32(obj, path, "concurrency", ph.concurrency, 1, 100000);
  read_u32(obj, path, "ramp_up_ms", ph.ramp_up_ms, 0, 3600000);
  read_u32(obj, path, "duration_cap_ms", ph.duration_cap_ms, 1, 24 * 3600000u);
  if (auto* x = obj.if_contains("max_errors"))
    ph.max_errors = as_uint(*x, join(path, "max_errors"), 0, u64_max);
  auto* one = obj.if_contains("session");
  auto* mix = obj.if_contains("mix");
  if ((one != nullptr) == (mix != nullptr))
    fail(path, "needs exactly one of session or mix");
  if (one != nullptr) {
    auto p = join(path, "session");
    session_spec s = defaults;
    apply_session(s, as_object(*one, p), p);
    check_session(s, p);
    ph.mix.push_back(std::move(s));
  } else {
    auto p = join(path, "mix");
    const auto& arr = as_array(*mix, p);
    if (arr.empty())
      fail(p, "must not be empty");
    for (std::size_t i = 0; i < arr.size(); ++i) {
      auto ip = index_path(p, i);
      session_spec s = defaults;
      s.name = "mix" + std::to_string(i);
      apply_session(s, as_object(arr[i], ip), ip);
      check_session(s, ip);
      ph.mix.push_back(std::move(s));
    }
  }
  return ph;
}

/// `round_trip`: the baseline must be a phase whose templates include the
/// one compared.
round_trip_spec parse_round_trip(const json::value& v,
                                 const std::vector<phase_spec>& phases) {
  const std::string path = "round_trip";
  const auto& obj = as_object(v, path);
  reject_unknown(obj, path,
                 {"template", "baseline_phase", "max_p50_ms", "max_p99_ms"});
  round_trip_spec rt;
  rt.template_name =
      as_string(required(obj, path, "template"), join(path, "template"));
  rt.baseline_phase = as_string(required(obj, path, "baseline_phase"),
                                join(path, "baseline_phase"));
  auto bound = [&](const char* key, std::optional<double>& out) {
    if (auto* x = obj.if_contains(key)) {
      out = as_number(*x, join(path, key));
      if (!(*out > 0))
        fail(join(path, key), "must be a positive number of milliseconds");
    }
  };
  bound("max_p50_ms", rt.max_p50_ms);
  bound("max_p99_ms", rt.max_p99_ms);
  auto base = std::find_if(phases.begin(), phases.end(), [&](const auto& ph) {
    return ph.name == rt.baseline_phase;
  });
  if (base == phases.end())
    fail(join(path, "baseline_phase"), "names no phase");
  if (std::none_of(base->mix.begin(), base->mix.end(),
                   [&](const auto& s) { return s.name == rt.template_name; }))
    fail(join(path, "template"), "names no session of the baseline phase");
  return rt;
}

scenario parse_native(const json::object& obj) {
  reject_unknown(obj, "",
                 {"name", "description", "url", "seed", "session_defaults",
                  "phases", "round_trip"});
  scenario sc;
  if (auto* x = obj.if_contains("name"))
    sc.name = as_string(*x, "name");
  if (auto* x = obj.if_contains("description"))
    sc.description = as_string(*x, "description");
  if (auto* x = obj.if_contains("url")) {
    sc.url = as_string(*x, "url");
    parse_ws_url(sc.url);
  }
  if (auto* x = obj.if_contains("seed"))
    sc.seed = as_uint(*x, "seed", 0, u64_max);
  session_spec defaults;
  if (auto* x = obj.if_contains("session_defaults"))
    apply_session(defaults, as_object(*x, "session_defaults"),
                  "session_defaults");
  const auto& phases = as_array(obj.at("phases"), "phases");
  if (phases.empty())
    fail("phases", "must not be empty");
  for (std::size_t i = 0; i < phases.size(); ++i)
    sc.phases.push_back(
        parse_phase(phases[i], index_path("phases", i), defaults));
  if (auto* x = obj.if_contains("round_trip"))
    sc.round_trip = parse_round_trip(*x, sc.phases);
  return sc;
}

} // namespace

std::uint64_t verify_spec::expected_bytes() const {
  switch (what) {
  case kind::none:
    return 0;
  case kind::text:
    return text.size();
  case kind::repeat_line:
    return (text.size() + 1) * count;
  case kind::seq: {
    std::uint64_t total = 0;
    for (auto n = seq_from; n <= seq_to; ++n)
      total += std::to_string(n).size() + 1;
    return total;
  }
  }
  return 0;
}

scenario parse_scenario(const json::value& doc) {
  if (!doc.is_object())
    fail("(document)", "must be a JSON object");
  const auto& obj = doc.get_object();
  if (obj.contains("phases"))
    return parse_native(obj);
  if (obj.contains("tests"))
    return parse_flat_suite(obj);
  if (obj.contains("categories"))
    return parse_categorized_suite(obj);
  fail("(document)", "needs phases, tests or categories");
}

scenario parse_scenario_text(std::string_view text) {
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  if (ec)
    fail("(document)", "invalid JSON: " + ec.message());
  return parse_scenario(doc);
}

scenario load_scenario(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw scenario_error(path + ": cannot open");
  std::ostringstream buf;
  buf << in.rdbuf();
  try {
    auto sc = parse_scenario_text(buf.str());
    if (sc.name.empty()) {
      auto slash = path.find_last_of('/');
      sc.name = path.substr(slash == std::string::npos ? 0 : slash + 1);
    }
    return sc;
  } catch (const scenario_error& e) {
    throw scenario_error(path + ": " + e.what());
  }
}

void scale_scenario(scenario& sc, double factor) {
  auto scale = [factor](std::uint32_t n) {
    auto x = std::llround(n * factor);
    return static_cast<std::uint32_t>(std::max<long long>(1, x));
  };
  for (auto& ph : sc.phases) {
    ph.sessions = scale(ph.sessions);
    ph.concurrency = scale(ph.concurrency);
  }
}

const session_spec& pick_template(const phase_spec& ph, std::uint32_t index) {
  std::uint64_t total = 0;
  for (const auto& s : ph.mix)
    total += s.weight;
  auto r = index % total;
  for (const auto& s : ph.mix) {
    if (r < s.weight)
      return s;
    r -= s.weight;
  }
  return ph.mix.back();
}

namespace {

/// The URL after `scheme`, split; errors start with `field`.
ws_url parse_url(std::string_view url, std::string_view scheme,
                 const std::string& field) {
  if (url.substr(0, scheme.size()) != scheme)
    throw scenario_error(field + ": must start with " + std::string{scheme});
  auto rest = url.substr(scheme.size());
  ws_url out;
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string_view::npos)
    out.target = std::string{rest.substr(slash)};
  auto colon = authority.rfind(':');
  out.host = std::string{authority.substr(0, colon)};
  if (out.host.empty())
    throw scenario_error(field + ": missing host");
  if (colon != std::string_view::npos) {
    auto digits = authority.substr(colon + 1);
    unsigned long port = 0;
    if (digits.empty() || digits.size() > 5 ||
        !std::all_of(digits.begin(), digits.end(),
                     [](char c) { return c >= '0' && c <= '9'; }))
      throw scenario_error(field + ": invalid port");
    port = std::stoul(std::string{digits});
    if (port == 0 || port > 65535)
      throw scenario_error(field + ": invalid port");
    out.port = static_cast<std::uint16_t>(port);
  }
  return out;
}

} // namespace

ws_url parse_ws_url(std::string_view url) {
  return parse_url(url, "ws://", "url");
}

ws_url parse_http_url(std::string_view url, const std::string& field) {
  return parse_url(url, "http://", field);
}

} // namespace actorexec::loadtest
