#define BOOST_TEST_MODULE app_config
#include <boost/test/unit_test.hpp>

#include "app/config_checks.hpp"
#include "app/option_table.hpp"
#include "app/parse_config.hpp"

#include <sys/resource.h>

#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

using namespace actorexec;
using namespace actorexec::app;

namespace {

/// The outcome of parsing `args` (after the program name) with `env`.
struct parsed {
  app::config cfg;
  /// The refusal, or "" when accepted.
  std::string error;
};

parsed parse(std::vector<std::string> args, const environment& env = {}) {
  args.insert(args.begin(), "actorexec");
  std::vector<const char*> argv;
  for (auto& a : args)
    argv.push_back(a.c_str());
  parsed out;
  auto err =
      parse_config(static_cast<int>(argv.size()), argv.data(), env, out.cfg);
  out.error = err ? *err : "";
  return out;
}

/// What `--help` shows of every setting of `cfg`, as one comparable line.
std::string shown(const app::config& cfg) {
  std::string out;
  for (auto& o : option_table())
    out += std::string{o.flag} + "=" + o.value.show(cfg) + "\n";
  return out;
}

/// The rows of the flag table of docs/operations.md, cells split.
std::vector<std::vector<std::string>> documented_flags() {
  std::ifstream in{ACTOREXEC_SOURCE_DIR "/docs/operations.md"};
  BOOST_REQUIRE(in);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `--", 0) != 0)
      continue;
    std::vector<std::string> cells;
    std::stringstream cols{line.substr(1)};
    std::string cell;
    while (std::getline(cols, cell, '|'))
      cells.push_back(cell.substr(1, cell.size() - 2));
    rows.push_back(cells);
  }
  return rows;
}

/// The first `quoted` word of `cell`, without its backticks.
std::string first_quoted(const std::string& cell) {
  auto b = cell.find('`');
  auto e = cell.find('`', b + 1);
  return cell.substr(b + 1, e - b - 1);
}

} // namespace

BOOST_AUTO_TEST_SUITE(defaults)

BOOST_AUTO_TEST_CASE(nothing_given_is_the_struct_defaults) {
  auto p = parse({});
  BOOST_TEST(p.error == "");
  BOOST_TEST(shown(p.cfg) == shown(app::config{}));
  BOOST_TEST(p.cfg.port == app::config{}.port);
  BOOST_TEST(p.cfg.actors.max_sessions == settings{}.max_sessions);
  BOOST_TEST(p.cfg.actors.heartbeat_timeout_ms ==
             settings{}.heartbeat_timeout_ms);
  BOOST_TEST(!p.cfg.show_help);
}

BOOST_AUTO_TEST_CASE(heartbeat_timeout_follows_the_interval) {
  // --help shows the rule "2 x interval"; the struct must agree with it.
  settings s;
  BOOST_TEST(s.heartbeat_timeout_ms == 2 * s.heartbeat_interval_ms);
  auto p = parse({"--heartbeat-interval-ms", "500"});
  BOOST_TEST(p.cfg.actors.heartbeat_timeout_ms == 1000u);
  p = parse({"--heartbeat-interval-ms", "500", "--heartbeat-timeout-ms=700"});
  BOOST_TEST(p.cfg.actors.heartbeat_timeout_ms == 700u);
}

BOOST_AUTO_TEST_CASE(zero_io_threads_and_window_are_raised) {
  auto p = parse({"--io-threads", "0", "--connection-window-bytes", "0"});
  BOOST_TEST(p.error == "");
  BOOST_TEST(p.cfg.io_threads == 1u);
  BOOST_TEST(p.cfg.actors.connection_window_bytes == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sources)

BOOST_AUTO_TEST_CASE(flag_beats_variables) {
  environment env{{"ACTOREXEC_PORT", "9000"}, {"DEFAULT_PORT", "9100"}};
  BOOST_TEST(parse({"--port", "9001"}, env).cfg.port == 9001);
  BOOST_TEST(parse({"--port=9002"}, env).cfg.port == 9002);
  BOOST_TEST(parse({}, env).cfg.port == 9000);
  BOOST_TEST(parse({}, {{"DEFAULT_PORT", "9100"}}).cfg.port == 9100);
}

BOOST_AUTO_TEST_CASE(seed_variable_names) {
  environment env{
      {"DEFAULT_PORT", "9100"},         {"MAX_SESSIONS", "7"},
      {"ALLOWED_COMMANDS", "echo,cat"}, {"CC_EXECUTOR_SHELL", "sh"},
      {"LOG_LEVEL", "debug"},           {"WEBSOCKET_HEARTBEAT_INTERVAL", "1.5"},
      {"MAX_OUTPUT_BUFFER", "4096"},    {"OUTPUT_LINE_LIMIT", "50"}};
  auto p = parse({}, env);
  BOOST_TEST(p.error == "");
  BOOST_TEST(p.cfg.port == 9100);
  BOOST_TEST(p.cfg.actors.max_sessions == 7u);
  BOOST_TEST(!p.cfg.actors.allowed.empty());
  BOOST_TEST(p.cfg.actors.shell == "sh");
  BOOST_TEST(p.cfg.log_level == "debug");
  BOOST_TEST(p.cfg.actors.json_ping_interval_ms == 1500u);
  BOOST_TEST(p.cfg.actors.max_buffer_bytes == 4096u);
  BOOST_TEST(p.cfg.actors.max_buffer_frames == 50u);
}

BOOST_AUTO_TEST_CASE(our_variables_beat_the_seeds) {
  auto p = parse({}, {{"MAX_SESSIONS", "7"}, {"ACTOREXEC_MAX_SESSIONS", "8"}});
  BOOST_TEST(p.cfg.actors.max_sessions == 8u);
}

BOOST_AUTO_TEST_CASE(every_variable_reaches_its_setting) {
  for (auto& o : option_table()) {
    // Nearly every setting takes 3, and none has it as its default.
    std::string value = o.kind == option_kind::toggle    ? "1"
                        : std::string{o.flag} == "shell" ? "zsh"
                                                         : "3";
    for (auto var : {o.env, o.seed_env}) {
      if (var == nullptr)
        continue;
      auto p = parse({}, {{var, value}, {"ACTOREXEC_ALLOWED_COMMANDS", "x"}});
      BOOST_TEST_CONTEXT(var) {
        if (std::string{o.flag} == "heartbeat-timeout-ms")
          BOOST_TEST(p.cfg.actors.heartbeat_timeout_ms == 3u);
        else
          BOOST_TEST(o.value.show(p.cfg) != o.value.show(app::config{}));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_flag_given_twice_keeps_the_last) {
  BOOST_TEST(parse({"--port", "1", "--port", "2"}).cfg.port == 2);
  auto p = parse({"--rlimit-cpu", "1", "--rlimit-cpu=2"});
  BOOST_REQUIRE(p.cfg.actors.rlimits.size() == 1u);
  BOOST_TEST(p.cfg.actors.rlimits[0].first == RLIMIT_CPU);
  BOOST_TEST(p.cfg.actors.rlimits[0].second == 2u);
}

BOOST_AUTO_TEST_CASE(repeated_origins_replace_the_variable) {
  environment env{{"ACTOREXEC_ALLOWED_ORIGINS", "https://a, https://b"}};
  auto p = parse({}, env);
  BOOST_TEST(p.cfg.allowed_origins ==
                 (std::vector<std::string>{"https://a", "https://b"}),
             boost::test_tools::per_element());
  p = parse({"--allowed-origin", "https://c", "--allowed-origin=https://d"},
            env);
  BOOST_TEST(p.cfg.allowed_origins ==
                 (std::vector<std::string>{"https://c", "https://d"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(switches) {
  BOOST_TEST(parse({"--insecure"}).cfg.insecure);
  BOOST_TEST(!parse({"--insecure=false"}).cfg.insecure);
  BOOST_TEST(parse({}, {{"ACTOREXEC_INSECURE", "yes"}}).cfg.insecure);
  BOOST_TEST(
      !parse({"--insecure=off"}, {{"ACTOREXEC_INSECURE", "1"}}).cfg.insecure);
  BOOST_TEST(parse({"--strict-params"}).cfg.actors.strict_params);
  BOOST_TEST(parse({"--no-shell"}).cfg.actors.no_shell);
  // Program_options lets a switch take the next word as its value.
  BOOST_TEST(!parse({"--insecure", "false", "--port", "1"}).cfg.insecure);
  BOOST_TEST(parse({"--insecure", "--port", "1"}).cfg.insecure);
  BOOST_TEST(parse({"--insecure="}).error == "");
}

BOOST_AUTO_TEST_CASE(the_token_variable_loses_to_the_file_flag) {
  auto p = parse({}, {{"ACTOREXEC_AUTH_TOKEN", "secret"}});
  BOOST_TEST(p.cfg.auth_token == "secret");
  p = parse({"--auth-token-file", "/nonexistent/token"},
            {{"ACTOREXEC_AUTH_TOKEN", "secret"}});
  BOOST_TEST(p.error == "cannot read the auth token file /nonexistent/token");
  p = parse({}, {{"ACTOREXEC_AUTH_TOKEN", "secret"},
                 {"ACTOREXEC_AUTH_TOKEN_FILE", "/nonexistent/token"}});
  BOOST_TEST(p.error == "");
  BOOST_TEST(p.cfg.auth_token == "secret");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refusals)

BOOST_AUTO_TEST_CASE(bad_values_name_their_source) {
  BOOST_TEST(parse({"--port", "70000"}).error ==
             "invalid value for --port: '70000'");
  BOOST_TEST(parse({"--max-sessions", "-1"}).error ==
             "invalid value for --max-sessions: '-1'");
  BOOST_TEST(parse({"--shell=fish"}).error ==
             "invalid value for --shell: 'fish'");
  BOOST_TEST(parse({"--host="}).error == "invalid value for --host: ''");
  BOOST_TEST(parse({"--allowed-commands="}).error == "");
  BOOST_TEST(parse({"--insecure=maybe"}).error ==
             "invalid value for --insecure: 'maybe'");
  BOOST_TEST(parse({}, {{"MAX_SESSIONS", "many"}}).error ==
             "invalid value for MAX_SESSIONS: 'many'");
  BOOST_TEST(parse({}, {{"ACTOREXEC_JSON_PING_INTERVAL", "-2"}}).error ==
             "invalid value for ACTOREXEC_JSON_PING_INTERVAL: '-2'");
}

BOOST_AUTO_TEST_CASE(an_overridden_bad_value_is_still_refused) {
  BOOST_TEST(parse({"--port", "1"}, {{"DEFAULT_PORT", "x"}}).error ==
             "invalid value for DEFAULT_PORT: 'x'");
}

BOOST_AUTO_TEST_CASE(syntax_errors) {
  BOOST_TEST(parse({"--no-such-flag", "1"}).error ==
             "unknown flag: --no-such-flag");
  BOOST_TEST(parse({"--no-such-flag=1"}).error ==
             "unknown flag: --no-such-flag");
  // Flags are not abbreviated.
  BOOST_TEST(parse({"--max-sess", "1"}).error == "unknown flag: --max-sess");
  BOOST_TEST(parse({"--port"}).error == "missing value for --port");
  BOOST_TEST(parse({"stray"}).error == "unexpected argument: stray");
}

BOOST_AUTO_TEST_CASE(allowed_env_needs_allowed_commands) {
  auto p = parse({"--allowed-env", "GREETING"});
  BOOST_TEST(p.error.rfind("--allowed-env needs --allowed-commands", 0) == 0);
  BOOST_TEST(parse({"--allowed-env", "GREETING", "--allowed-commands", "echo"})
                 .error == "");
}

BOOST_AUTO_TEST_CASE(no_token_no_public_bind) {
  BOOST_TEST(
      parse({"--host", "0.0.0.0"})
          .error.rfind("refusing to listen on 0.0.0.0 without an auth token",
                       0) == 0);
  BOOST_TEST(parse({"--host", "0.0.0.0", "--insecure"}).error == "");
  BOOST_TEST(
      parse({"--host", "0.0.0.0"}, {{"ACTOREXEC_AUTH_TOKEN", "t"}}).error ==
      "");
  BOOST_TEST(parse({}, {{"ACTOREXEC_AUTH_TOKEN", "a b"}}).error ==
             "the auth token must be printable ASCII without spaces");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(help)

BOOST_AUTO_TEST_CASE(help_skips_the_checks) {
  BOOST_TEST(parse({"--help", "--allowed-env", "X"}).cfg.show_help);
  BOOST_TEST(parse({"--help", "--allowed-env", "X"}).error == "");
  BOOST_TEST(parse({"-h"}).cfg.show_help);
  BOOST_TEST(parse({"--version"}).cfg.show_version);
  BOOST_TEST(parse({"--help", "--port", "x"}).error ==
             "invalid value for --port: 'x'");
}

BOOST_AUTO_TEST_CASE(help_lists_every_flag_default_and_variable) {
  auto text = help_text();
  app::config defaults;
  for (auto& o : option_table()) {
    BOOST_TEST_CONTEXT(o.flag) {
      auto line = text.find(std::string{"\n  --"} + o.flag + " ");
      BOOST_REQUIRE(line != std::string::npos);
      auto end = text.find("\n  --", line + 1);
      auto entry = text.substr(line, end - line);
      BOOST_TEST(entry.find("(=" + o.value.show(defaults) + ")") !=
                 std::string::npos);
      BOOST_TEST(entry.find(o.env) != std::string::npos);
      if (o.seed_env)
        BOOST_TEST(entry.find(o.seed_env) != std::string::npos);
    }
  }
  BOOST_TEST(text.find("--help") != std::string::npos);
  BOOST_TEST(text.find("ACTOREXEC_AUTH_TOKEN ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(operations_doc_matches_the_table) {
  auto rows = documented_flags();
  BOOST_TEST(rows.size() == option_table().size());
  app::config defaults;
  for (auto& row : rows) {
    BOOST_REQUIRE(row.size() >= 3u);
    auto flag = first_quoted(row[0]).substr(2);
    BOOST_TEST_CONTEXT(flag) {
      auto o = find_option(flag);
      BOOST_REQUIRE(o != nullptr);
      BOOST_TEST(row[1].find(std::string{"`"} + o->env + "`") !=
                 std::string::npos);
      if (o->seed_env)
        BOOST_TEST(row[1].find(std::string{"`"} + o->seed_env + "`") !=
                   std::string::npos);
      // "0 (no limit)" documents the default 0.
      BOOST_TEST((row[2] + " ").rfind(o->value.show(defaults) + " ", 0) == 0u);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
