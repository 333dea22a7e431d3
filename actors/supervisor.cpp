#include "actors/supervisor.hpp"

#include <sys/random.h>

#include <array>
#include <cstdio>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/mcp_session.hpp"
#include "actors/session.hpp"

namespace actorexec {

namespace {

void fill_random(unsigned char* buf, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    auto got = ::getrandom(buf + done, n - done, 0);
    if (got > 0)
      done += static_cast<std::size_t>(got);
  }
}

caf::result<caf::actor, std::string, std::string>
open_session(supervisor_actor_type* self, caf::actor& conn) {
  auto& st = self->state;
  if (st.draining || st.sessions.size() >= st.cfg->max_sessions)
    return caf::make_error(caf::sec::runtime_error, "session limit exceeded");
  auto id = make_uuid_v4();
  auto token = random_hex(32);
  auto session =
      self->spawn(session_actor, id, conn, st.spawner, st.cfg, st.stats);
  self->monitor(session);
  st.ids.emplace(session.address(), id);
  st.sessions.emplace(id, session_entry{session, token});
  log::info("session_open", {{"session_id", id}});
  return {session, id, token};
}

/// A new MCP session. Its id is its only credential (Mcp-Session-Id):
/// 122 random bits, like a resume token's strength for a UUID.
caf::result<caf::actor, std::string> open_mcp(supervisor_actor_type* self) {
  auto& st = self->state;
  if (st.draining || st.sessions.size() >= st.cfg->max_sessions)
    return caf::make_error(caf::sec::runtime_error, "session limit exceeded");
  auto id = make_uuid_v4();
  auto session =
      self->spawn(mcp_session_actor, id, st.spawner, st.cfg, st.stats);
  self->monitor(session);
  st.ids.emplace(session.address(), id);
  st.sessions.emplace(id, session_entry{session, {}, true});
  log::info("mcp_session_open", {{"session_id", id}});
  return {session, id};
}

caf::result<caf::actor> find_mcp(supervisor_actor_type* self,
                                 const std::string& id) {
  auto& st = self->state;
  auto i = st.sessions.find(id);
  if (i == st.sessions.end() || !i->second.mcp)
    return caf::make_error(caf::sec::runtime_error, "no such MCP session");
  return i->second.session;
}

caf::result<caf::actor> find_session(supervisor_actor_type* self,
                                     const std::string& id,
                                     const std::string& token) {
  auto& st = self->state;
  auto i = st.sessions.find(id);
  // Compare against a dummy when the id is unknown, so both refusals take
  // the same time.
  static const std::string dummy(64, '0');
  bool ok = constant_time_equal(
                i == st.sessions.end() ? dummy : i->second.token, token) &&
            i != st.sessions.end() && !i->second.mcp;
  if (!ok) {
    log::info("resume_refused", {{"session_id", id}});
    return caf::make_error(caf::sec::runtime_error, "resume refused");
  }
  return i->second.session;
}

} // namespace

std::string random_hex(std::size_t n) {
  std::vector<unsigned char> buf(n);
  fill_random(buf.data(), n);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (auto b : buf) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

std::string make_uuid_v4() {
  std::array<unsigned char, 16> b;
  fill_random(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40); // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80); // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                "%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

caf::behavior supervisor_actor(supervisor_actor_type* self,
                               child_spawner spawner,
                               std::shared_ptr<const settings> cfg,
                               std::shared_ptr<server_stats> stats) {
  auto& st = self->state;
  st.spawner = std::move(spawner);
  st.cfg = std::move(cfg);
  st.stats = std::move(stats);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    auto i = st.ids.find(msg.source);
    if (i == st.ids.end())
      return;
    st.sessions.erase(i->second);
    st.ids.erase(i);
  });
  return {
      [=](open_atom, caf::actor& conn) { return open_session(self, conn); },
      [=](resume_atom, const std::string& id, const std::string& token) {
        return find_session(self, id, token);
      },
      [=](mcp_open_atom) { return open_mcp(self); },
      [=](mcp_find_atom, const std::string& id) { return find_mcp(self, id); },
      [=](shutdown_atom, std::uint64_t grace_ms) {
        auto& st = self->state;
        st.draining = true;
        st.stats->draining = true;
        for (auto& kv : st.sessions)
          self->send(kv.second.session, shutdown_atom::value, grace_ms);
      },
  };
}

} // namespace actorexec
