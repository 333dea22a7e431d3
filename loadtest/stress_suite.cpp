#include "loadtest/stress_suite.hpp"

#include "loadtest/json_fields.hpp"

namespace json = boost::json;

namespace actorexec::loadtest {

using namespace json_fields;

namespace {

/// One entry of the replaced system's stress suites. Their files carry more
/// fields (name, description, ...), so unknown keys are fine here.
session_spec parse_seed_test(const json::value& v, const std::string& path,
                             std::optional<double> timeout_s) {
  const auto& obj = as_object(v, path);
  session_spec s;
  s.name = as_string(required(obj, path, "id"), join(path, "id"));
  s.command = as_string(required(obj, path, "command"), join(path, "command"));
  if (auto* x = obj.if_contains("expected_patterns"))
    s.expected_patterns = as_strings(*x, join(path, "expected_patterns"));
  if (auto* x = obj.if_contains("timeout")) {
    auto t = as_number(*x, join(path, "timeout"));
    if (!(t > 0))
      fail(join(path, "timeout"), "must be a positive number of seconds");
    timeout_s = t;
  }
  if (timeout_s) {
    s.timeout_s = *timeout_s;
    // The client waits a little longer than the server's own limit, so a
    // timed-out process is reported by the server, not by the client.
    s.timeout_ms = static_cast<std::uint32_t>(*timeout_s * 1000 + 5000);
  }
  return s;
}

/// Interactive entries need a human or a model at the other end.
bool is_interactive(const json::value& v) {
  if (!v.is_object())
    return false;
  auto* x = v.get_object().if_contains("interactive");
  return x != nullptr && x->is_bool() && x->get_bool();
}

phase_spec parse_seed_tests(const json::value& tests, const std::string& path,
                            std::string name, std::optional<double> timeout) {
  phase_spec ph;
  ph.name = std::move(name);
  const auto& arr = as_array(tests, path);
  for (std::size_t i = 0; i < arr.size(); ++i)
    if (!is_interactive(arr[i]))
      ph.mix.push_back(parse_seed_test(arr[i], index_path(path, i), timeout));
  if (ph.mix.empty())
    fail(path, "has no non-interactive test");
  ph.sessions = static_cast<std::uint32_t>(ph.mix.size());
  ph.concurrency = ph.sessions;
  return ph;
}

std::optional<double> seed_timeout(const json::object& obj,
                                   const std::string& path) {
  auto* x = obj.if_contains("timeout");
  if (x == nullptr)
    return std::nullopt;
  auto t = as_number(*x, join(path, "timeout"));
  if (!(t > 0))
    fail(join(path, "timeout"), "must be a positive number of seconds");
  return t;
}

/// The name and description both suite formats share.
scenario suite_header(const json::object& obj) {
  scenario sc;
  sc.name = "stress_suite";
  if (auto* x = obj.if_contains("task_list_id"); x && x->is_string())
    sc.name = std::string{x->get_string()};
  if (auto* x = obj.if_contains("description"); x && x->is_string())
    sc.description = std::string{x->get_string()};
  return sc;
}

} // namespace

scenario parse_flat_suite(const json::object& obj) {
  auto sc = suite_header(obj);
  sc.phases.push_back(parse_seed_tests(obj.at("tests"), "tests", "tests",
                                       seed_timeout(obj, "")));
  return sc;
}

scenario parse_categorized_suite(const json::object& obj) {
  auto sc = suite_header(obj);
  const auto& cats = as_object(obj.at("categories"), "categories");
  for (const auto& kv : cats) {
    auto p = join("categories", kv.key());
    const auto& cat = as_object(kv.value(), p);
    sc.phases.push_back(
        parse_seed_tests(required(cat, p, "tests"), join(p, "tests"),
                         std::string{kv.key()}, seed_timeout(cat, p)));
  }
  if (sc.phases.empty())
    fail("categories", "must not be empty");
  return sc;
}

} // namespace actorexec::loadtest
