// Manifests on disk: files and directories, merge order, duplicates across
// files, missing paths, the size cap, and plugin lookup. Every test builds
// its files in a fresh mkdtemp directory and removes it afterwards.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/manifest.h"

using bentos::config::find_plugin;
using bentos::config::load_manifests;
using bentos::config::LoadResult;
using bentos::config::MissingPaths;

namespace {

namespace fs = std::filesystem;

const std::string kSocketDir = "/run/bentos/drivers";

// A scratch directory, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "bentos-manifest-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path(const std::string& relative = "") const {
    return relative.empty() ? path_ : path_ + "/" + relative;
  }

  // Writes `text` to `relative`, creating its folders.
  std::string write(const std::string& relative, const std::string& text) const {
    const std::string file = path(relative);
    fs::create_directories(fs::path(file).parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

  std::string mkdir(const std::string& relative) const {
    fs::create_directories(path(relative));
    return path(relative);
  }

 private:
  std::string path_;
};

// A manifest defining devices `names`, each with plugin "p" and the default socket.
std::string manifest(const std::vector<std::string>& names) {
  std::string text = R"({"devices": [)";
  for (size_t i = 0; i < names.size(); ++i)
    text += (i ? ", " : "") + std::string(R"({"name": ")") + names[i] + R"(", "plugin": "p"})";
  return text + "]}";
}

std::vector<std::string> names_of(const LoadResult& r) {
  std::vector<std::string> names;
  for (const auto& d : r.devices) names.push_back(d.name);
  return names;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

}  // namespace

TEST_CASE("a single file: devices in order, source_file set") {
  TempDir tmp;
  const std::string file = tmp.write("devices.json", manifest({"b", "a"}));
  const LoadResult r = load_manifests({file}, kSocketDir);
  REQUIRE_MESSAGE(r.ok(), joined(r.errors));
  CHECK(names_of(r) == std::vector<std::string>{"b", "a"});
  CHECK(r.devices[0].source_file == file);
  CHECK(r.devices[0].socket == "unix:///run/bentos/drivers/b.sock");
}

TEST_CASE("a named file need not end in .json") {
  TempDir tmp;
  const std::string file = tmp.write("devices.conf", manifest({"a"}));
  const LoadResult r = load_manifests({file}, kSocketDir);
  CHECK(r.ok());
  CHECK(names_of(r) == std::vector<std::string>{"a"});
}

TEST_CASE("a directory: *.json in byte order of names; other entries skipped") {
  TempDir tmp;
  tmp.write("d/20-b.json", manifest({"b"}));
  tmp.write("d/10-a.json", manifest({"a1", "a2"}));
  tmp.write("d/9-c.json", manifest({"c"}));          // '9' sorts after '2'
  tmp.write("d/Z-upper.json", manifest({"z"}));      // byte order: 'Z' after digits
  tmp.write("d/notes.txt", "not json at all");
  tmp.write("d/old.json.bak", "{");
  tmp.write("d/.hidden.json", "{");                  // editors' and tools' dot files
  tmp.write("d/.json", "{");
  tmp.mkdir("d/sub.json");                           // a directory, not a file
  tmp.write("d/sub.json/inner.json", manifest({"inner"}));
  const LoadResult r = load_manifests({tmp.path("d")}, kSocketDir);
  REQUIRE_MESSAGE(r.ok(), joined(r.errors));
  CHECK(names_of(r) == std::vector<std::string>{"a1", "a2", "b", "c", "z"});
  CHECK(r.devices[0].source_file == tmp.path("d/10-a.json"));
}

TEST_CASE("a symlink to a manifest in a directory is read") {
  TempDir tmp;
  const std::string target = tmp.write("elsewhere/real.txt", manifest({"linked"}));
  tmp.mkdir("d");
  fs::create_symlink(target, tmp.path("d/link.json"));
  const LoadResult r = load_manifests({tmp.path("d")}, kSocketDir);
  CHECK(r.ok());
  CHECK(names_of(r) == std::vector<std::string>{"linked"});
}

TEST_CASE("several paths are merged in the order given") {
  TempDir tmp;
  const std::string main = tmp.write("devices.json", manifest({"m"}));
  tmp.write("devices.d/a.json", manifest({"d1"}));
  tmp.write("devices.d/b.json", manifest({"d2"}));
  const std::string extra = tmp.write("extra.json", manifest({"x"}));
  const LoadResult r = load_manifests({extra, main, tmp.path("devices.d")}, kSocketDir);
  REQUIRE_MESSAGE(r.ok(), joined(r.errors));
  CHECK(names_of(r) == std::vector<std::string>{"x", "m", "d1", "d2"});
}

TEST_CASE("empty device lists, an empty directory and no paths are all valid") {
  TempDir tmp;
  const std::string empty = tmp.write("empty.json", R"({"devices": []})");
  const std::string dir = tmp.mkdir("empty.d");
  CHECK(load_manifests({empty, dir}, kSocketDir).ok());
  CHECK(load_manifests({empty, dir}, kSocketDir).devices.empty());
  CHECK(load_manifests({}, kSocketDir).ok());
}

TEST_CASE("a device name defined in two files names both files") {
  TempDir tmp;
  const std::string a = tmp.write("d/a.json", manifest({"kv", "one"}));
  const std::string b = tmp.write("d/b.json", manifest({"two", "kv"}));
  const LoadResult r = load_manifests({tmp.path("d")}, kSocketDir);
  CHECK(r.errors == std::vector<std::string>{"device 'kv' is defined in " + a + " and again in " + b});
  CHECK(names_of(r) == std::vector<std::string>{"kv", "one", "two"});  // the first definition is kept
}

TEST_CASE("an invalid device still claims its name and socket") {
  TempDir tmp;
  const std::string a = tmp.write("a.json", R"({"devices": [
    {"name": "kv", "plugin": "p", "threads": 100},
    {"name": "s", "plugin": "", "socket": "/tmp/s.sock"}]})");
  const std::string b = tmp.write("b.json", R"({"devices": [
    {"name": "kv", "plugin": "p"},
    {"name": "t", "plugin": "p", "socket": "/tmp/s.sock"}]})");
  const LoadResult r = load_manifests({a, b}, kSocketDir);
  const std::vector<std::string> expected = {
      a + ": device 'kv': key 'threads': expected an integer of at most 64, found 100",
      a + ": device 's': key 'plugin': expected a plugin file name or path (a non-empty string), found an empty string",
      "device 'kv' is defined in " + a + " and again in " + b,
      "device 't' in " + b + " uses socket 'unix:///tmp/s.sock', which device 's' in " + a + " already uses",
  };
  CHECK(r.errors == expected);
  CHECK(r.devices.empty());
}

TEST_CASE("two devices on one socket, across files, names both devices and files") {
  TempDir tmp;
  const std::string a = tmp.write("a.json", R"({"devices": [{"name": "a", "plugin": "p", "socket": "/tmp/s.sock"}]})");
  const std::string b = tmp.write("b.json", R"({"devices": [{"name": "b", "plugin": "p", "socket": "/tmp/./s.sock"}]})");
  const std::string c = tmp.write("c.json", R"({"devices": [{"name": "c", "plugin": "p", "socket": "tcp://h:80"},
                                                            {"name": "d", "plugin": "p", "socket": "tcp://h:81"}]})");
  const std::string e = tmp.write("e.json", R"({"devices": [{"name": "e", "plugin": "p", "socket": "tcp://h:80"}]})");
  const LoadResult r = load_manifests({a, b, c, e}, kSocketDir);
  const std::vector<std::string> expected = {
      "device 'b' in " + b + " uses socket 'unix:///tmp/./s.sock', which device 'a' in " + a + " already uses",
      "device 'e' in " + e + " uses socket 'tcp://h:80', which device 'c' in " + c + " already uses",
  };
  CHECK(r.errors == expected);
  CHECK(names_of(r) == std::vector<std::string>{"a", "c", "d"});
}

TEST_CASE("a missing path is an error naming it, unless missing paths are ignored") {
  TempDir tmp;
  const std::string present = tmp.write("present.json", manifest({"a"}));
  const std::string missing = tmp.path("missing.json");
  const std::string missing_dir = tmp.path("missing.d");

  const LoadResult strict = load_manifests({missing, present, missing_dir}, kSocketDir);
  CHECK(strict.errors == std::vector<std::string>{missing + ": no such file or directory",
                                                  missing_dir + ": no such file or directory"});
  CHECK(names_of(strict) == std::vector<std::string>{"a"});

  const LoadResult lenient = load_manifests({missing, present, missing_dir}, kSocketDir, MissingPaths::ignore);
  CHECK_MESSAGE(lenient.ok(), joined(lenient.errors));
  CHECK(names_of(lenient) == std::vector<std::string>{"a"});

  // Ignoring missing paths does not hide broken files.
  const std::string broken = tmp.write("broken.json", "{");
  CHECK_FALSE(load_manifests({broken}, kSocketDir, MissingPaths::ignore).ok());
}

TEST_CASE("errors from every file are collected; a syntax error stops only its own file") {
  TempDir tmp;
  const std::string a = tmp.write("d/a.json", "{\n  \"devices\": [\n");
  const std::string b = tmp.write("d/b.json", R"({"devices": [{"name": "kv", "plugin": "p", "threads": -1}]})");
  tmp.write("d/c.json", manifest({"ok"}));
  const LoadResult r = load_manifests({tmp.path("d")}, kSocketDir);
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].rfind(a + ": invalid JSON at line 3, column 1: ", 0) == 0);
  CHECK(r.errors[1] == b + ": device 'kv': key 'threads': expected a non-negative integer, found -1");
  CHECK(names_of(r) == std::vector<std::string>{"ok"});
}

TEST_CASE("a file over 16 MiB is refused unread") {
  TempDir tmp;
  const std::string big = tmp.path("big.json");
  const int fd = ::open(big.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, static_cast<off_t>(bentos::config::kMaxManifestBytes + 1)) == 0);  // sparse
  ::close(fd);
  const LoadResult r = load_manifests({big}, kSocketDir);
  CHECK(r.errors == std::vector<std::string>{big + ": expected a manifest of at most 16777216 bytes (16 MiB), found " +
                                             "16777217 bytes"});
}

TEST_CASE("an unreadable file or a path that is not a file or directory") {
  TempDir tmp;
  const LoadResult dev = load_manifests({"/dev/null"}, kSocketDir);
  CHECK(dev.errors == std::vector<std::string>{
                          "/dev/null: expected a manifest file or a directory of them, found another kind of file"});
  if (::geteuid() != 0) {  // root reads anything
    const std::string secret = tmp.write("secret.json", manifest({"a"}));
    ::chmod(secret.c_str(), 0);
    const LoadResult r = load_manifests({secret}, kSocketDir);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0] == secret + ": cannot open: Permission denied");
  }
}

TEST_CASE("the same file reached twice is reported once, not as duplicate devices") {
  TempDir tmp;
  const std::string file = tmp.write("d/a.json", manifest({"kv"}));
  const LoadResult r = load_manifests({tmp.path("d"), file}, kSocketDir);
  CHECK(r.errors == std::vector<std::string>{
                        file + ": this manifest is named more than once by the configuration paths; read it once"});
  CHECK(names_of(r) == std::vector<std::string>{"kv"});
}

TEST_CASE("find_plugin: paths, bare names, directory order, .so suffix") {
  TempDir tmp;
  const std::string first = tmp.mkdir("first");
  const std::string second = tmp.mkdir("second");
  tmp.write("first/echo.so", "");
  tmp.write("second/echo", "");
  tmp.write("second/kv.so", "");
  tmp.write("second/raw", "");
  tmp.write("second/raw.so", "");
  tmp.mkdir("first/kv");  // a directory is never a plugin
  tmp.write("manifests/local/mine.so", "");
  const std::vector<std::string> dirs = {first, second};
  std::string error;

  // Directory order wins over the suffix: first/echo.so before second/echo.
  CHECK(find_plugin("echo", "", dirs, error) == std::optional<std::string>(first + "/echo.so"));
  CHECK(find_plugin("kv", "", dirs, error) == std::optional<std::string>(second + "/kv.so"));
  // Within a directory the exact name comes first.
  CHECK(find_plugin("raw", "", dirs, error) == std::optional<std::string>(second + "/raw"));
  CHECK(find_plugin("kv.so", "", dirs, error) == std::optional<std::string>(second + "/kv.so"));
  // With a '/': a path, relative to the manifest's folder, never searched.
  CHECK(find_plugin("local/mine.so", tmp.path("manifests"), dirs, error) ==
        std::optional<std::string>(tmp.path("manifests") + "/local/mine.so"));
  CHECK(find_plugin(tmp.path("second/raw"), "/elsewhere", dirs, error) ==
        std::optional<std::string>(tmp.path("second/raw")));

  CHECK_FALSE(find_plugin("nope", "", dirs, error));
  CHECK(error == "plugin 'nope' not found: looked for 'nope' and 'nope.so' in " + first + ", " + second);
  CHECK_FALSE(find_plugin("nope.so", "", dirs, error));
  CHECK(error == "plugin 'nope.so' not found: looked for 'nope.so' in " + first + ", " + second);
  CHECK_FALSE(find_plugin("echo", "", {}, error));
  CHECK(error == "plugin 'echo' not found: no plugin directory to look in (add one with --plugin-dir)");
  CHECK_FALSE(find_plugin("./echo.so", tmp.path("manifests"), dirs, error));
  CHECK(error == "plugin './echo.so': no such file: " + tmp.path("manifests") + "/./echo.so");
  CHECK_FALSE(find_plugin("", "", dirs, error));
  CHECK(error == "plugin '': expected a plugin file name or path, found an empty string");
}
