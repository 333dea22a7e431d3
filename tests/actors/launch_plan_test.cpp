#define BOOST_TEST_MODULE actors_launch_plan
#include <boost/test/unit_test.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "actors/launch_plan.hpp"

using namespace actorexec;

namespace {

spawn_spec argv_spec(std::vector<std::string> argv) {
  spawn_spec spec;
  spec.params.argv = std::move(argv);
  return spec;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

BOOST_AUTO_TEST_CASE(argv_as_given_or_the_command_under_the_shell) {
  BOOST_TEST(child_argv(argv_spec({"ls", "-l"})) ==
                 (std::vector<std::string>{"ls", "-l"}),
             boost::test_tools::per_element());
  spawn_spec spec;
  spec.shell = "sh";
  spec.params.command = "echo hi";
  BOOST_TEST(child_argv(spec) ==
                 (std::vector<std::string>{"sh", "-c", "echo hi"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(environment_drops_secrets_and_lets_the_request_win) {
  const char* server_env[] = {
      "PATH=/bin", "ACTOREXEC_AUTH_TOKEN=x", "SECRET=y", "HOME=/root",
      "KEEP=1",    "OVERRIDE=server",        nullptr};
  auto spec = argv_spec({"true"});
  spec.scrub_env = {"SECRET"};
  spec.params.env = {{"OVERRIDE", "request"}, {"USER", "asked"}};
  auto user = std::make_shared<run_as_user>();
  user->name = "worker";
  user->home = "/home/worker";
  spec.run_as = user;
  auto env = child_environment(spec, server_env);
  BOOST_TEST(contains(env, "PATH=/bin"));
  BOOST_TEST(contains(env, "KEEP=1"));
  BOOST_TEST(!contains(env, "ACTOREXEC_AUTH_TOKEN=x"));
  BOOST_TEST(!contains(env, "SECRET=y"));
  BOOST_TEST(contains(env, "HOME=/home/worker"));
  BOOST_TEST(!contains(env, "HOME=/root"));
  BOOST_TEST(contains(env, "LOGNAME=worker"));
  // The request wins over the identity and the server.
  BOOST_TEST(contains(env, "USER=asked"));
  BOOST_TEST(!contains(env, "USER=worker"));
  BOOST_TEST(contains(env, "OVERRIDE=request"));
  BOOST_TEST(!contains(env, "OVERRIDE=server"));
}

BOOST_AUTO_TEST_CASE(path_lookup_finds_regular_executables_only) {
  BOOST_TEST(find_executable("sh", "/nonexistent:/bin") == "/bin/sh");
  BOOST_TEST(find_executable("./x", "") == "./x");
  BOOST_TEST(find_executable("sh", "/nonexistent").empty());
  BOOST_TEST(find_executable("sh", nullptr).empty());
  // A directory of that name is skipped.
  BOOST_TEST(find_executable("bin", "/:/usr/bin").empty());
}

BOOST_AUTO_TEST_CASE(plan_resolves_the_program_into_argv0) {
  launch_plan plan;
  auto spec = argv_spec({"sh", "-c", "true"});
  spec.params.cwd = "/tmp";
  spec.rlimits = {{RLIMIT_NOFILE, 64}};
  BOOST_TEST(!make_launch_plan(spec, plan));
  BOOST_TEST(plan.exe.find('/') != std::string::npos);
  BOOST_TEST(plan.argv.front() == plan.exe);
  BOOST_TEST(plan.argv.size() == 3u);
  BOOST_TEST(*plan.cwd == "/tmp");
  BOOST_TEST(plan.rlimits.size() == 1u);
  launch_plan missing;
  BOOST_TEST(
      make_launch_plan(argv_spec({"no-such-program-xyz"}), missing).value() ==
      ENOENT);
}
