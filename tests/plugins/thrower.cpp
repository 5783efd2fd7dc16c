// thrower: a raw-layer test plugin written in C++ on the bare C ABI (no
// driver.hpp, so nothing catches for it), which throws where the host runs
// its code outside a file-op callback. A write names what to throw from:
//   "post"       a post() task throws std::runtime_error
//   "post-int"   a post() task throws an int (not a std::exception)
//   "timer"      a one-shot timer callback throws std::runtime_error
//   "callback"   the write callback itself throws
// Every read answers "alive\n", so a test can see the device still serves.
#include <bentos/driver.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace {

struct Thrower {
  bentos_host* host;
  const bentos_host_services* services;
};

void throw_runtime(void*) { throw std::runtime_error("thrown on purpose by the thrower test plugin"); }
void throw_int(void*) { throw 42; }

int32_t create(bentos_host* host, const bentos_host_services* services, const char*, uint64_t, void** instance,
               char*, uint64_t) {
  *instance = new Thrower{host, services};
  return 0;
}

void destroy(void* instance) { delete static_cast<Thrower*>(instance); }

int32_t write(void* instance, void*, bentos_call* call, const uint8_t* data, uint64_t len, int64_t) {
  auto* t = static_cast<Thrower*>(instance);
  const std::string what(reinterpret_cast<const char*>(data), len);
  if (what == "post") {
    t->services->post(t->host, throw_runtime, nullptr);
  } else if (what == "post-int") {
    t->services->post(t->host, throw_int, nullptr);
  } else if (what == "timer") {
    if (t->services->timer_start(t->host, 1, 0, throw_runtime, nullptr) == 0) return -EIO;
  } else if (what == "callback") {
    throw std::logic_error("thrown on purpose from a write callback");
  } else {
    return -EINVAL;
  }
  t->services->complete_count(call, len);
  return 0;
}

int32_t read(void* instance, void*, bentos_call* call, uint64_t size, int64_t) {
  auto* t = static_cast<Thrower*>(instance);
  static const char kAlive[] = "alive\n";
  t->services->complete_bytes(call, kAlive, size < sizeof kAlive - 1 ? size : sizeof kAlive - 1);
  return 0;
}

const bentos_raw_ops kOps = {
    sizeof(bentos_raw_ops), 0, nullptr, read, write, nullptr, nullptr, nullptr, nullptr, nullptr,
};

const bentos_driver kDriver = {
    sizeof(bentos_driver), BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR, BENTOS_PATTERN_RAW, "thrower", "1.0",
    "test: throws C++ exceptions from post() tasks, timers and callbacks", BENTOS_THREADING_LOOP, 0,
    create, destroy, &kOps,
};

}  // namespace

extern "C" BENTOS_EXPORT const bentos_driver* bentos_driver_entry_v1(uint32_t, uint32_t) { return &kDriver; }
