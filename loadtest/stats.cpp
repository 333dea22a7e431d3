#include "loadtest/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace actorexec::loadtest {

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto n = sorted.size();
  // Nearest rank: ceil(p/100 * n), as a 1-based index. The epsilon keeps
  // exact products (p90 of 10 samples = rank 9) from rounding up.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

summary summarize(std::vector<double> samples) {
  summary s;
  if (samples.empty())
    return s;
  std::sort(samples.begin(), samples.end());
  s.count = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / s.count;
  s.p50 = percentile(samples, 50);
  s.p90 = percentile(samples, 90);
  s.p99 = percentile(samples, 99);
  return s;
}

std::vector<double> thin_out(std::vector<double> samples, std::size_t limit) {
  if (samples.size() <= limit || limit == 0)
    return samples;
  std::sort(samples.begin(), samples.end());
  std::vector<double> out;
  out.reserve(limit);
  auto step = static_cast<double>(samples.size()) / limit;
  for (std::size_t i = 0; i < limit; ++i)
    out.push_back(samples[static_cast<std::size_t>(i * step)]);
  return out;
}

} // namespace actorexec::loadtest
