// libFuzzer target: the manifest parser (host/config/manifest.h). Any text
// must give a result without throwing or crashing; every error message is
// non-empty and names the file; a result with no errors holds only devices
// that pass the documented checks. docs/fuzzing.md says how to run it.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "config/manifest.h"
#include "fuzz_check.h"

using namespace bentos::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string file = "/fuzz/etc/bentos/fuzz-manifest.json";
  LoadResult result;
  try {
    result = parse_manifest(text, file, "/run/bentos");
  } catch (...) {
    FUZZ_CHECK(!"parse_manifest threw");
  }
  for (const auto& e : result.errors) {
    FUZZ_CHECK(!e.empty());
    FUZZ_CHECK(e.find(file) != std::string::npos);
  }
  if (result.ok()) {
    std::set<std::string> names;
    for (const auto& d : result.devices) {
      FUZZ_CHECK(is_valid_device_name(d.name));
      FUZZ_CHECK(d.name.size() <= 64);
      FUZZ_CHECK(names.insert(d.name).second);  // unique within the file
      FUZZ_CHECK(!d.plugin.empty());
      FUZZ_CHECK(!d.socket.empty());
      FUZZ_CHECK(d.threads <= 64);
      FUZZ_CHECK(d.executor == "loop" || d.executor == "worker");
    }
  }
  return 0;
}
