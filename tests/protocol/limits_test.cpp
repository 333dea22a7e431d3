#define BOOST_TEST_MODULE protocol_limits
#include <boost/test/unit_test.hpp>

#include "protocol/limits.hpp"

#include <string>
#include <vector>

using namespace actorexec::protocol;

namespace {

request execute_command(std::string command) {
  execute_params p;
  p.command = std::move(command);
  return request{1, "execute", std::move(p)};
}

request execute_argv(std::vector<std::string> argv) {
  execute_params p;
  p.argv = std::move(argv);
  return request{1, "execute", std::move(p)};
}

request execute_env(std::vector<std::pair<std::string, std::string>> env) {
  execute_params p;
  p.argv = {"true"};
  p.env = std::move(env);
  return request{1, "execute", std::move(p)};
}

request input(std::string data) {
  return request{1, "input", input_params{std::move(data), false}};
}

/// Small limits, each reached by one case below: command 5 bytes, argv 2
/// entries and 6 bytes, env 2 entries and 4 bytes, input 3 bytes.
request_limits small() {
  return request_limits{5, 2, 6, 2, 4, 3};
}

/// A request and its refusal; empty: it passes.
struct limit_case {
  request req;
  std::string refusal;
};

} // namespace

BOOST_AUTO_TEST_CASE(at_the_limit_passes_one_above_is_refused) {
  const std::string p = "Invalid params: ";
  const std::vector<limit_case> cases{
      {execute_command("12345"), ""},
      {execute_command("123456"),
       p + "'command' exceeds the limit of 5 bytes (got 6)"},
      {execute_argv({"abc", "def"}), ""},
      {execute_argv({"a", "b", "c"}),
       p + "'argv' exceeds the limit of 2 entries (got 3)"},
      {execute_argv({"abc", "defg"}),
       p + "'argv' exceeds the limit of 6 bytes in total (got 7)"},
      {execute_env({{"A", "1"}, {"B", "2"}}), ""},
      {execute_env({{"A", "1"}, {"B", "2"}, {"C", "3"}}),
       p + "'env' exceeds the limit of 2 entries (got 3)"},
      {execute_env({{"AB", "123"}}),
       p + "'env' exceeds the limit of 4 bytes of names and values (got 5)"},
      // `data` is held decoded: its size is what reaches the child.
      {input("abc"), ""},
      {input("abcd"), p + "'data' exceeds the limit of 3 bytes (got 4)"},
      {request{1, "status", status_params{}}, ""},
  };
  for (auto& c : cases) {
    auto err = check_limits(c.req, small());
    BOOST_TEST_CONTEXT(
        "expected: " << (c.refusal.empty() ? "pass" : c.refusal)) {
      BOOST_TEST(err.has_value() == !c.refusal.empty());
      if (err) {
        BOOST_TEST(static_cast<int>(err->code) == -32602);
        BOOST_TEST(err->message == c.refusal);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(zero_means_no_limit) {
  request_limits lim{0, 0, 0, 0, 0, 0};
  BOOST_TEST(!check_limits(execute_command(std::string(1 << 20, 'x')), lim));
  BOOST_TEST(!check_limits(
      execute_env(
          std::vector<std::pair<std::string, std::string>>(10000, {"A", "1"})),
      lim));
  BOOST_TEST(!check_limits(input(std::string(1 << 22, 'x')), lim));
}
