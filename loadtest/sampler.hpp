#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "loadtest/report.hpp"

namespace actorexec::loadtest {

/// Reads VmRSS, VmHWM, the fd count and CPU time of `pid` from /proc;
/// empty when the process is gone.
std::optional<server_sample> read_proc_sample(int pid);

/// Samples a process on its own thread, so that a busy event loop never
/// skews the time axis.
class proc_sampler {
public:
  using clock = std::chrono::steady_clock;

  /// Starts sampling `pid` every `period`; `t0` is the run's time zero.
  proc_sampler(int pid, std::chrono::milliseconds period, clock::time_point t0);
  ~proc_sampler();

  proc_sampler(const proc_sampler&) = delete;
  proc_sampler& operator=(const proc_sampler&) = delete;

  /// Stops and returns every sample taken.
  std::vector<server_sample> stop();

private:
  void loop();

  int pid_;
  std::chrono::milliseconds period_;
  clock::time_point t0_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<server_sample> samples_;
  std::thread thread_;
};

} // namespace actorexec::loadtest
