#define BOOST_TEST_MODULE loadtest_scenario
#include <boost/test/unit_test.hpp>

#include <string>

#include "loadtest/scenario.hpp"

using namespace actorexec::loadtest;

namespace {

/// A minimal valid scenario whose phase session is `session` (JSON text).
std::string with_session(const std::string& session) {
  return R"({"phases":[{"session":)" + session + "}]}";
}

/// The message of the scenario_error that parsing `text` throws.
std::string error_of(const std::string& text) {
  try {
    parse_scenario_text(text);
  } catch (const scenario_error& e) {
    return e.what();
  }
  return "(no error)";
}

void check_error(const std::string& text, const std::string& expected) {
  auto msg = error_of(text);
  BOOST_TEST_INFO("input: " << text);
  BOOST_TEST(msg == expected);
}

} // namespace

BOOST_AUTO_TEST_SUITE(native_format)

BOOST_AUTO_TEST_CASE(every_field_is_read) {
  auto sc = parse_scenario_text(R"({
    "name": "n", "description": "d", "url": "ws://127.0.0.1:9000/ws/mcp",
    "seed": 7,
    "session_defaults": {"timeout_ms": 1234, "framing": "chunks"},
    "phases": [{
      "name": "p", "sessions": 10, "concurrency": 5, "ramp_up_ms": 100,
      "duration_cap_ms": 2000, "max_errors": 3,
      "session": {
        "name": "s", "weight": 2, "command": "seq 1 3",
        "on_overflow": "drop_oldest", "stdin": "in", "repeat": 4,
        "timeout": 1.5, "slow_reader_ms": 2, "stall_after_bytes": 10,
        "stall_ms": 20, "drop_after_bytes": 30, "drop_probability": 0.25,
        "max_drops": 6, "resume": false, "reconnect_delay_ms": 40,
        "ack_every": 50, "cancel_after_ms": 60,
        "expected_patterns": ["a", "b"], "verify": {"seq": [1, 3]},
        "expected_exit_code": -15, "expected_messages": 9, "raw": false
      }}]})");
  BOOST_TEST(sc.name == "n");
  BOOST_TEST(sc.description == "d");
  BOOST_TEST(sc.url == "ws://127.0.0.1:9000/ws/mcp");
  BOOST_TEST(sc.seed == 7u);
  BOOST_REQUIRE_EQUAL(sc.phases.size(), 1u);
  const auto& ph = sc.phases[0];
  BOOST_TEST(ph.name == "p");
  BOOST_TEST(ph.sessions == 10u);
  BOOST_TEST(ph.concurrency == 5u);
  BOOST_TEST(ph.ramp_up_ms == 100u);
  BOOST_TEST(ph.duration_cap_ms == 2000u);
  BOOST_TEST(ph.max_errors == 3u);
  BOOST_REQUIRE_EQUAL(ph.mix.size(), 1u);
  const auto& s = ph.mix[0];
  BOOST_TEST(s.name == "s");
  BOOST_TEST(s.weight == 2u);
  BOOST_TEST(*s.command == "seq 1 3");
  BOOST_TEST(s.argv.empty());
  BOOST_TEST(s.framing == "chunks"); // from session_defaults
  BOOST_TEST(s.on_overflow == "drop_oldest");
  BOOST_TEST(*s.stdin_data == "in");
  BOOST_TEST(s.repeat == 4u);
  BOOST_TEST(*s.timeout_s == 1.5);
  BOOST_TEST(s.slow_reader_ms == 2u);
  BOOST_TEST(*s.stall_after_bytes == 10u);
  BOOST_TEST(s.stall_ms == 20u);
  BOOST_TEST(*s.drop_after_bytes == 30u);
  BOOST_TEST(s.drop_probability == 0.25);
  BOOST_TEST(s.max_drops == 6u);
  BOOST_TEST(s.resume == false);
  BOOST_TEST(s.reconnect_delay_ms == 40u);
  BOOST_TEST(s.ack_every == 50u);
  BOOST_TEST(*s.cancel_after_ms == 60u);
  BOOST_TEST(s.expected_patterns == (std::vector<std::string>{"a", "b"}),
             boost::test_tools::per_element());
  BOOST_TEST((s.verify.what == verify_spec::kind::seq));
  BOOST_TEST(s.verify.seq_from == 1);
  BOOST_TEST(s.verify.seq_to == 3);
  BOOST_TEST(*s.expected_exit_code == -15);
  BOOST_TEST(*s.expected_messages == 9u);
  BOOST_TEST(s.timeout_ms == 1234u); // from session_defaults
}

BOOST_AUTO_TEST_CASE(defaults) {
  auto sc = parse_scenario_text(with_session(R"({"argv":["true"]})"));
  const auto& ph = sc.phases[0];
  BOOST_TEST(ph.name == "phases[0]");
  BOOST_TEST(ph.sessions == 1u);
  BOOST_TEST(ph.concurrency == 1u);
  BOOST_TEST(ph.max_errors == 0u);
  const auto& s = ph.mix[0];
  BOOST_TEST(s.argv == (std::vector<std::string>{"true"}),
             boost::test_tools::per_element());
  BOOST_TEST(!s.command);
  BOOST_TEST(s.framing == "lines");
  BOOST_TEST(s.on_overflow == "block");
  BOOST_TEST(s.repeat == 1u);
  BOOST_TEST(s.resume == true);
  BOOST_TEST(!s.expected_exit_code);
  BOOST_TEST((s.verify.what == verify_spec::kind::none));
  BOOST_TEST(sc.url == "ws://127.0.0.1:8003/ws/mcp");
}

BOOST_AUTO_TEST_CASE(mix_entries_get_names_and_weights) {
  auto sc = parse_scenario_text(R"({"phases":[{"sessions":4,"mix":[
    {"command":"a","weight":3},{"name":"b","command":"b"}]}]})");
  const auto& ph = sc.phases[0];
  BOOST_REQUIRE_EQUAL(ph.mix.size(), 2u);
  BOOST_TEST(ph.mix[0].name == "mix0");
  BOOST_TEST(ph.mix[1].name == "b");
  BOOST_TEST(pick_template(ph, 0).name == "mix0");
  BOOST_TEST(pick_template(ph, 2).name == "mix0");
  BOOST_TEST(pick_template(ph, 3).name == "b");
  BOOST_TEST(pick_template(ph, 4).name == "mix0");
}

BOOST_AUTO_TEST_CASE(verify_kinds) {
  auto text = parse_scenario_text(
      with_session(R"({"command":"x","verify":{"text":"hi\n"}})"));
  BOOST_TEST((text.phases[0].mix[0].verify.what == verify_spec::kind::text));
  BOOST_TEST(text.phases[0].mix[0].verify.expected_bytes() == 3u);
  auto line = parse_scenario_text(
      with_session(R"({"command":"x","verify":{"line":"ab","count":5}})"));
  BOOST_TEST(line.phases[0].mix[0].verify.expected_bytes() == 15u);
  auto seq = parse_scenario_text(
      with_session(R"({"command":"x","verify":{"seq":[1,10]}})"));
  BOOST_TEST(seq.phases[0].mix[0].verify.expected_bytes() == 21u);
}

BOOST_AUTO_TEST_CASE(later_command_or_argv_replaces_the_default) {
  auto sc = parse_scenario_text(R"({"session_defaults":{"command":"a"},
    "phases":[{"session":{"argv":["b"]}}]})");
  BOOST_TEST(!sc.phases[0].mix[0].command);
  BOOST_TEST(sc.phases[0].mix[0].argv.size() == 1u);
}

BOOST_AUTO_TEST_CASE(scale) {
  auto sc = parse_scenario_text(
      R"({"phases":[{"sessions":200,"concurrency":50,"session":{"command":"x"}}]})");
  scale_scenario(sc, 0.1);
  BOOST_TEST(sc.phases[0].sessions == 20u);
  BOOST_TEST(sc.phases[0].concurrency == 5u);
  scale_scenario(sc, 0.001);
  BOOST_TEST(sc.phases[0].sessions == 1u);
  BOOST_TEST(sc.phases[0].concurrency == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(native_errors)

BOOST_AUTO_TEST_CASE(document_level) {
  check_error("[1]", "(document): must be a JSON object");
  check_error("{", "(document): invalid JSON: incomplete JSON");
  check_error("{}", "(document): needs phases, tests or categories");
  check_error(R"({"phases":[]})", "phases: must not be empty");
  check_error(R"({"phases":{}})", "phases: must be an array");
  check_error(R"({"phases":[1]})", "phases[0]: must be an object");
  check_error(R"({"phases":[{}]})",
              "phases[0]: needs exactly one of session or mix");
  check_error(R"({"bogus":1,"phases":[]})", "bogus: unknown field");
  check_error(R"({"name":1,"phases":[]})", "name: must be a string");
  check_error(R"({"description":[],"phases":[]})",
              "description: must be a string");
  check_error(R"({"seed":-1,"phases":[]})",
              "seed: must be an integer from 0 to 18446744073709551615");
  check_error(R"({"session_defaults":3,"phases":[]})",
              "session_defaults: must be an object");
  check_error(R"({"session_defaults":{"framing":"x"},"phases":[]})",
              "session_defaults.framing: must be \"lines\" or \"chunks\"");
}

BOOST_AUTO_TEST_CASE(url) {
  check_error(R"({"url":"http://x","phases":[]})",
              "url: must start with ws://");
  check_error(R"({"url":"ws://:80/","phases":[]})", "url: missing host");
  check_error(R"({"url":"ws://h:0/","phases":[]})", "url: invalid port");
  check_error(R"({"url":"ws://h:99999/","phases":[]})", "url: invalid port");
  check_error(R"({"url":"ws://h:8x/","phases":[]})", "url: invalid port");
  auto u = parse_ws_url("ws://127.0.0.1:8003/ws/mcp");
  BOOST_TEST(u.host == "127.0.0.1");
  BOOST_TEST(u.port == 8003);
  BOOST_TEST(u.target == "/ws/mcp");
  auto bare = parse_ws_url("ws://localhost");
  BOOST_TEST(bare.port == 80);
  BOOST_TEST(bare.target == "/");
}

BOOST_AUTO_TEST_CASE(metrics_url) {
  auto m = parse_http_url("http://127.0.0.1:8003/metrics?token=t", "--metrics");
  BOOST_TEST(m.host == "127.0.0.1");
  BOOST_TEST(m.port == 8003);
  BOOST_TEST(m.target == "/metrics?token=t");
  auto expect = [](const char* url, const char* message) {
    try {
      parse_http_url(url, "--metrics");
      BOOST_FAIL("no error for " << url);
    } catch (const scenario_error& e) {
      BOOST_TEST(e.what() == std::string{message});
    }
  };
  expect("ws://127.0.0.1:1/metrics", "--metrics: must start with http://");
  expect("http://:1/metrics", "--metrics: missing host");
  expect("http://h:0/metrics", "--metrics: invalid port");
}

BOOST_AUTO_TEST_CASE(phase_fields) {
  auto phase = [](const std::string& fields) {
    return R"({"phases":[{)" + fields + R"(,"session":{"command":"x"}}]})";
  };
  check_error(phase(R"("name":2)"), "phases[0].name: must be a string");
  check_error(phase(R"("sessions":0)"),
              "phases[0].sessions: must be an integer from 1 to 10000000");
  check_error(phase(R"("sessions":1.5)"),
              "phases[0].sessions: must be an integer");
  check_error(phase(R"("concurrency":0)"),
              "phases[0].concurrency: must be an integer from 1 to 100000");
  check_error(phase(R"("ramp_up_ms":-1)"),
              "phases[0].ramp_up_ms: must be an integer from 0 to 3600000");
  check_error(phase(R"("duration_cap_ms":0)"),
              "phases[0].duration_cap_ms: must be an integer from 1 to "
              "86400000");
  check_error(phase(R"("max_errors":"x")"),
              "phases[0].max_errors: must be an integer");
  check_error(phase(R"("sesions":1)"), "phases[0].sesions: unknown field");
  check_error(R"({"phases":[{"session":{"command":"x"},"mix":[]}]})",
              "phases[0]: needs exactly one of session or mix");
  check_error(R"({"phases":[{"mix":[]}]})", "phases[0].mix: must not be empty");
  check_error(R"({"phases":[{"mix":[{"command":"x","weight":0}]}]})",
              "phases[0].mix[0].weight: must be an integer from 1 to 1000000");
}

BOOST_AUTO_TEST_CASE(session_fields) {
  auto s = [](const std::string& fields) { return with_session(fields); };
  const std::string p = "phases[0].session";
  check_error(s("3"), p + ": must be an object");
  check_error(s("{}"), p + ": needs command or argv");
  check_error(s(R"({"command":1})"), p + ".command: must be a string");
  check_error(s(R"({"argv":[]})"), p + ".argv: must not be empty");
  check_error(s(R"({"argv":"ls"})"), p + ".argv: must be an array");
  check_error(s(R"({"argv":["ls",1]})"), p + ".argv[1]: must be a string");
  check_error(s(R"({"command":"x","framing":"words"})"),
              p + ".framing: must be \"lines\" or \"chunks\"");
  check_error(s(R"({"command":"x","on_overflow":"drop"})"),
              p + ".on_overflow: must be \"block\" or \"drop_oldest\"");
  check_error(s(R"({"command":"x","stdin":true})"),
              p + ".stdin: must be a string");
  check_error(s(R"({"command":"x","repeat":0})"),
              p + ".repeat: must be an integer from 1 to 1000000");
  check_error(s(R"({"command":"x","timeout":0})"),
              p + ".timeout: must be a positive number of seconds");
  check_error(s(R"({"command":"x","timeout":"1"})"),
              p + ".timeout: must be a number");
  check_error(s(R"({"command":"x","slow_reader_ms":60001})"),
              p + ".slow_reader_ms: must be an integer from 0 to 60000");
  check_error(s(R"({"command":"x","stall_after_bytes":5})"),
              p + ".stall_ms: is required with stall_after_bytes");
  check_error(s(R"({"command":"x","stall_ms":5})"),
              p + ".stall_after_bytes: is required with stall_ms");
  check_error(s(R"({"command":"x","stall_ms":-5})"),
              p + ".stall_ms: must be an integer from 0 to 3600000");
  check_error(s(R"({"command":"x","drop_after_bytes":0})"),
              p + ".drop_after_bytes: must be an integer from 1 to "
                  "18446744073709551615");
  check_error(s(R"({"command":"x","drop_probability":1.5})"),
              p + ".drop_probability: must be from 0 to 1");
  check_error(s(R"({"command":"x","max_drops":-1})"),
              p + ".max_drops: must be an integer from 0 to 100000");
  check_error(s(R"({"command":"x","resume":1})"),
              p + ".resume: must be true or false");
  check_error(s(R"({"command":"x","reconnect_delay_ms":600001})"),
              p + ".reconnect_delay_ms: must be an integer from 0 to 600000");
  check_error(s(R"({"command":"x","ack_every":-2})"),
              p + ".ack_every: must be an integer from 0 to 4294967295");
  check_error(s(R"({"command":"x","cancel_after_ms":"soon"})"),
              p + ".cancel_after_ms: must be an integer");
  check_error(s(R"({"command":"x","expected_patterns":"a"})"),
              p + ".expected_patterns: must be an array");
  check_error(s(R"({"command":"x","expected_patterns":[1]})"),
              p + ".expected_patterns[0]: must be a string");
  check_error(s(R"({"command":"x","expected_exit_code":0.5})"),
              p + ".expected_exit_code: must be an integer");
  check_error(s(R"({"command":"x","expected_messages":-1})"),
              p + ".expected_messages: must be an integer from 0 to "
                  "18446744073709551615");
  check_error(s(R"({"command":"x","timeout_ms":0})"),
              p + ".timeout_ms: must be an integer from 1 to 4294967295");
  check_error(s(R"({"command":"x","raw":"yes"})"),
              p + ".raw: must be true or false");
  check_error(s(R"({"raw":true,"drop_after_bytes":5})"),
              p + ".raw: raw sessions cannot drop and resume");
  check_error(s(R"({"command":"x","name":[]})"), p + ".name: must be a string");
  check_error(s(R"({"command":"x","slow_reader":1})"),
              p + ".slow_reader: unknown field");
}

BOOST_AUTO_TEST_CASE(verify_errors) {
  auto v = [](const std::string& verify) {
    return with_session(R"({"command":"x","verify":)" + verify + "}");
  };
  const std::string p = "phases[0].session.verify";
  check_error(v("1"), p + ": must be an object");
  check_error(v("{}"), p + ": needs exactly one of seq, text or line");
  check_error(v(R"({"seq":[1,2],"text":"a"})"),
              p + ": needs exactly one of seq, text or line");
  check_error(v(R"({"seq":[1]})"), p + ".seq: must be [first, last]");
  check_error(v(R"({"seq":[3,2]})"), p + ".seq: first must not exceed last");
  check_error(v(R"({"seq":[1,"2"]})"), p + ".seq[1]: must be an integer");
  check_error(v(R"({"text":1})"), p + ".text: must be a string");
  check_error(v(R"({"line":"a"})"), p + ".count: is required with line");
  check_error(v(R"({"line":"a","count":-1})"),
              p + ".count: must be an integer from 0 to 18446744073709551615");
  check_error(v(R"({"text":"a","count":1})"),
              p + ".count: is only valid with line");
  check_error(v(R"({"seq":[1,2],"bogus":1})"), p + ".bogus: unknown field");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hostile_clients)

using kind = attack_spec::kind;

const attack_spec& attack_of(const scenario& sc) {
  return sc.phases[0].mix[0].attack;
}

BOOST_AUTO_TEST_CASE(attack_fields_are_read) {
  auto sc = parse_scenario_text(with_session(R"({"command":"sleep 30",
    "attack":{"type":"input_flood","count":100,"bytes":1000,"numbers":7,
              "hold_ms":20,"rounds":3,"expect_rpc_errors":[-32006],
              "expect_close_codes":[1008,1009]}})"));
  const auto& a = attack_of(sc);
  BOOST_TEST((a.what == kind::input_flood));
  BOOST_TEST(a.name() == "input_flood");
  BOOST_TEST(a.count == 100u);
  BOOST_TEST(a.bytes == 1000u);
  BOOST_TEST(a.numbers == 7u);
  BOOST_TEST(a.hold_ms == 20u);
  BOOST_TEST(a.rounds == 3u);
  BOOST_TEST(a.expect_rpc_errors == (std::vector<std::int64_t>{-32006}),
             boost::test_tools::per_element());
  BOOST_TEST(a.expect_close_codes == (std::vector<std::int64_t>{1008, 1009}),
             boost::test_tools::per_element());
  BOOST_TEST(a.runs_process());
}

BOOST_AUTO_TEST_CASE(expected_refusals_default_to_the_documented_ones) {
  auto attack = [](const std::string& type) {
    auto cmd = type == "input_flood" || type == "slow_close"
                   ? std::string{R"("command":"yes",)"}
                   : std::string{};
    return attack_of(parse_scenario_text(with_session(
        "{" + cmd + R"("attack":{"type":")" + type + R"(","count":2}})")));
  };
  using codes = std::vector<std::int64_t>;
  auto input = attack("input_flood");
  BOOST_TEST(input.expect_rpc_errors == (codes{-32006, -32029, -32005}),
             boost::test_tools::per_element());
  BOOST_TEST(input.bytes == 1000000u);
  BOOST_TEST(input.rounds == 1u);
  BOOST_TEST(attack("reply_flood").expect_rpc_errors == (codes{-32029}),
             boost::test_tools::per_element());
  BOOST_TEST(attack("frame_flood").expect_rpc_errors == (codes{-32029}),
             boost::test_tools::per_element());
  BOOST_TEST(attack("frame_flood").numbers == 300000u);
  auto ping = attack("ping_flood");
  BOOST_TEST(ping.expect_rpc_errors.empty());
  BOOST_TEST(ping.expect_close_codes == (codes{1008}),
             boost::test_tools::per_element());
  BOOST_TEST(!ping.runs_process());
  auto slow = attack("slow_close");
  BOOST_TEST(slow.expect_rpc_errors.empty());
  BOOST_TEST(slow.expect_close_codes.empty());
  BOOST_TEST(slow.hold_ms == 1000u);
  // Given, even empty, they replace the defaults.
  auto none = attack_of(parse_scenario_text(with_session(
      R"({"attack":{"type":"ping_flood","count":2,"expect_close_codes":[]}})")));
  BOOST_TEST(none.expect_close_codes.empty());
}

BOOST_AUTO_TEST_CASE(attack_errors) {
  const std::string p = "phases[0].session";
  auto a = [](const std::string& attack) {
    return with_session(R"({"command":"x","attack":)" + attack + "}");
  };
  check_error(a("1"), p + ".attack: must be an object");
  check_error(a(R"({"count":1})"), p + ".attack.type: is required");
  check_error(a(R"({"type":"flood","count":1})"),
              p + ".attack.type: must be input_flood, reply_flood, "
                  "frame_flood, ping_flood or slow_close");
  check_error(a(R"({"type":"ping_flood"})"), p + ".attack.count: is required");
  check_error(a(R"({"type":"ping_flood","count":0})"),
              p + ".attack.count: must be an integer from 1 to 10000000");
  check_error(a(R"({"type":"input_flood","count":1,"bytes":16777217})"),
              p + ".attack.bytes: must be an integer from 0 to 16777216");
  check_error(a(R"({"type":"ping_flood","count":1,"rounds":0})"),
              p + ".attack.rounds: must be an integer from 1 to 100000");
  check_error(a(R"({"type":"ping_flood","count":1,"hold_ms":600001})"),
              p + ".attack.hold_ms: must be an integer from 0 to 600000");
  check_error(a(R"({"type":"ping_flood","count":1,"expect_rpc_errors":[1.5]})"),
              p + ".attack.expect_rpc_errors[0]: must be an integer");
  check_error(a(R"({"type":"ping_flood","count":1,"size":3})"),
              p + ".attack.size: unknown field");
  check_error(with_session(R"({"attack":{"type":"slow_close","count":1}})"),
              p + ": needs command or argv");
  check_error(
      with_session(R"({"raw":true,"attack":{"type":"ping_flood","count":1}})"),
      p + ".raw: an attack speaks JSON-RPC");
}

BOOST_AUTO_TEST_CASE(repeat_delay) {
  auto sc = parse_scenario_text(
      with_session(R"({"command":"echo hi","repeat":3,"repeat_delay_ms":10})"));
  BOOST_TEST(sc.phases[0].mix[0].repeat_delay_ms == 10u);
  check_error(with_session(R"({"command":"x","repeat_delay_ms":-1})"),
              "phases[0].session.repeat_delay_ms: must be an integer from 0 "
              "to 600000");
}

/// Two phases, the first with an `echo` template, and `round_trip`.
std::string with_round_trip(const std::string& round_trip) {
  return R"({"phases":[
    {"name":"base","session":{"name":"echo","command":"echo hi"}},
    {"name":"attack","mix":[{"name":"echo","command":"echo hi"},
                            {"attack":{"type":"ping_flood","count":5}}]}],
    "round_trip":)" +
         round_trip + "}";
}

BOOST_AUTO_TEST_CASE(round_trip_is_read) {
  auto sc = parse_scenario_text(with_round_trip(
      R"({"template":"echo","baseline_phase":"base","max_p50_ms":20,
          "max_p99_ms":200.5})"));
  BOOST_REQUIRE(sc.round_trip);
  BOOST_TEST(sc.round_trip->template_name == "echo");
  BOOST_TEST(sc.round_trip->baseline_phase == "base");
  BOOST_TEST(*sc.round_trip->max_p50_ms == 20.0);
  BOOST_TEST(*sc.round_trip->max_p99_ms == 200.5);
  auto bare = parse_scenario_text(
      with_round_trip(R"({"template":"echo","baseline_phase":"base"})"));
  BOOST_TEST(!bare.round_trip->max_p50_ms);
  BOOST_TEST(
      !parse_scenario_text(with_session(R"({"command":"x"})")).round_trip);
}

BOOST_AUTO_TEST_CASE(round_trip_errors) {
  check_error(with_round_trip(R"({"baseline_phase":"base"})"),
              "round_trip.template: is required");
  check_error(with_round_trip(R"({"template":"echo"})"),
              "round_trip.baseline_phase: is required");
  check_error(with_round_trip(R"({"template":"echo","baseline_phase":"nope"})"),
              "round_trip.baseline_phase: names no phase");
  check_error(with_round_trip(R"({"template":"mix1","baseline_phase":"base"})"),
              "round_trip.template: names no session of the baseline phase");
  check_error(
      with_round_trip(
          R"({"template":"echo","baseline_phase":"base","max_p99_ms":0})"),
      "round_trip.max_p99_ms: must be a positive number of "
      "milliseconds");
  check_error(
      with_round_trip(R"({"template":"echo","baseline_phase":"base","p50":1})"),
      "round_trip.p50: unknown field");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(seed_formats)

BOOST_AUTO_TEST_CASE(flat_suite) {
  auto sc = parse_scenario_text(R"({"task_list_id":"T","timeout":30,
    "tests":[{"id":"a","name":"A","command":"echo a",
              "expected_patterns":["a"],"description":"x"},
             {"id":"b","command":"date","timeout":5},
             {"id":"c","command":"claude","interactive":true}]})");
  BOOST_TEST(sc.name == "T");
  BOOST_REQUIRE_EQUAL(sc.phases.size(), 1u);
  const auto& ph = sc.phases[0];
  BOOST_TEST(ph.sessions == 2u);
  BOOST_REQUIRE_EQUAL(ph.mix.size(), 2u);
  BOOST_TEST(ph.mix[0].name == "a");
  BOOST_TEST(*ph.mix[0].command == "echo a");
  BOOST_TEST(ph.mix[0].expected_patterns.size() == 1u);
  BOOST_TEST(*ph.mix[0].timeout_s == 30.0);
  BOOST_TEST(ph.mix[0].timeout_ms == 35000u);
  BOOST_TEST(*ph.mix[1].timeout_s == 5.0);
  BOOST_TEST(pick_template(ph, 1).name == "b");
}

BOOST_AUTO_TEST_CASE(categorized_suite) {
  auto sc = parse_scenario_text(R"({"categories":{
    "simple":{"timeout":120,"tests":[{"id":"e","command":"echo"}]},
    "edge":{"tests":[{"id":"u","command":"echo u","expected_patterns":[]}]}}})");
  BOOST_REQUIRE_EQUAL(sc.phases.size(), 2u);
  BOOST_TEST(sc.phases[0].name == "simple");
  BOOST_TEST(*sc.phases[0].mix[0].timeout_s == 120.0);
  BOOST_TEST(sc.phases[1].name == "edge");
  BOOST_TEST(!sc.phases[1].mix[0].timeout_s);
}

BOOST_AUTO_TEST_CASE(seed_errors) {
  check_error(R"({"tests":{}})", "tests: must be an array");
  check_error(R"({"tests":[]})", "tests: has no non-interactive test");
  check_error(R"({"tests":[{"command":"x"}]})", "tests[0].id: is required");
  check_error(R"({"tests":[{"id":"a"}]})", "tests[0].command: is required");
  check_error(R"({"tests":[{"id":"a","command":"x","expected_patterns":[2]}]})",
              "tests[0].expected_patterns[0]: must be a string");
  check_error(R"({"tests":[{"id":"a","command":"x","timeout":0}]})",
              "tests[0].timeout: must be a positive number of seconds");
  check_error(R"({"timeout":"x","tests":[{"id":"a","command":"x"}]})",
              "timeout: must be a number");
  check_error(R"({"categories":[]})", "categories: must be an object");
  check_error(R"({"categories":{}})", "categories: must not be empty");
  check_error(R"({"categories":{"s":{}}})", "categories.s.tests: is required");
  check_error(R"({"categories":{"s":{"timeout":-1,"tests":[]}}})",
              "categories.s.timeout: must be a positive number of seconds");
}

BOOST_AUTO_TEST_CASE(bundled_seed_file_parses) {
  auto sc = load_scenario(ACTOREXEC_SCENARIO_DIR "/seed_stress.json");
  BOOST_TEST(sc.phases.size() == 2u);
}

BOOST_AUTO_TEST_CASE(every_bundled_scenario_parses) {
  for (auto name :
       {"echo_latency", "throughput_lines", "throughput_chunks",
        "concurrent_100", "concurrent_1000", "churn", "slow_consumer",
        "reconnect_storm", "mixed", "fairness", "seed_stress"}) {
    BOOST_TEST_INFO("scenario " << name);
    BOOST_CHECK_NO_THROW(load_scenario(std::string{ACTOREXEC_SCENARIO_DIR} +
                                       "/" + name + ".json"));
  }
}

BOOST_AUTO_TEST_CASE(load_errors_name_the_file) {
  try {
    load_scenario("/nonexistent/x.json");
    BOOST_FAIL("no error");
  } catch (const scenario_error& e) {
    BOOST_TEST(std::string{e.what()} == "/nonexistent/x.json: cannot open");
  }
}

BOOST_AUTO_TEST_SUITE_END()
