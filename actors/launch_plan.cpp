#include "actors/launch_plan.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>

// Boost.Process 1.81's v2 headers use these without including them.
#include <type_traits>

#include <boost/optional.hpp>
#include <boost/type_traits.hpp>

#include <boost/process/v2/environment.hpp>

extern char** environ;

namespace actorexec {

namespace bp = boost::process::v2;

namespace {

bool has_key(const std::vector<std::pair<std::string, std::string>>& vars,
             std::string_view key) {
  return std::any_of(vars.begin(), vars.end(),
                     [key](auto& kv) { return kv.first == key; });
}

} // namespace

std::vector<std::string> child_argv(const spawn_spec& spec) {
  if (!spec.params.argv.empty())
    return spec.params.argv;
  return {spec.shell, "-c", *spec.params.command};
}

std::vector<std::string> child_environment(const spawn_spec& spec,
                                           const char* const* server_env) {
  std::vector<std::pair<std::string, std::string>> identity;
  if (spec.run_as)
    identity = {{"HOME", spec.run_as->home},
                {"USER", spec.run_as->name},
                {"LOGNAME", spec.run_as->name}};
  auto scrubbed = [&](std::string_view key) {
    // The server's own settings (the auth token among them) are none of
    // the child's business.
    if (key.rfind("ACTOREXEC_", 0) == 0)
      return true;
    return std::find(spec.scrub_env.begin(), spec.scrub_env.end(), key) !=
           spec.scrub_env.end();
  };
  auto& extra = spec.params.env;
  std::vector<std::string> result;
  for (auto p = server_env; p && *p; ++p) {
    std::string_view entry{*p};
    auto key = entry.substr(0, entry.find('='));
    if (!scrubbed(key) && !has_key(extra, key) && !has_key(identity, key))
      result.emplace_back(entry);
  }
  for (auto& kv : identity)
    if (!has_key(extra, kv.first))
      result.push_back(kv.first + "=" + kv.second);
  for (auto& kv : extra)
    result.push_back(kv.first + "=" + kv.second);
  return result;
}

std::string find_executable(const std::string& name, const char* path) {
  if (name.find('/') != std::string::npos)
    return name;
  if (path == nullptr || *path == '\0')
    return {};
  // Boost.Process's lookup, in an environment of PATH alone: a regular
  // file we may execute, an empty entry being the working directory.
  std::string entry = std::string{"PATH="} + path;
  std::array<bp::environment::key_value_pair_view, 1> env{
      {bp::environment::key_value_pair_view{entry.c_str()}}};
  return bp::environment::find_executable(name, env).string();
}

std::error_code make_launch_plan(const spawn_spec& spec, launch_plan& plan) {
  plan.argv = child_argv(spec);
  plan.exe = find_executable(plan.argv.front(), std::getenv("PATH"));
  if (plan.exe.empty())
    return {ENOENT, std::system_category()};
  plan.argv.front() = plan.exe;
  plan.env = child_environment(spec, environ);
  plan.cwd = spec.params.cwd;
  plan.run_as = spec.run_as;
  plan.rlimits = spec.rlimits;
  return {};
}

} // namespace actorexec
