// Plugin trust (plugin/trust.h): files and folders with bad modes or owners
// are refused with a message naming the object, its owner and mode and the
// fix; symlinks are judged by where they sit and where they point. The
// files are made in a folder of the build tree, which must itself pass the
// check (it does when the checkout is not group-writable); ownership cases
// need root (chown) and are skipped loudly otherwise.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "plugin/trust.h"

using bentos::plugin::plugin_file_trusted;
namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A private folder (mode 0755) in the build tree, removed at the end.
class TrustDir {
 public:
  TrustDir() {
    const char* build = std::getenv("BENTOS_BUILD_DIR");
    std::string templ = std::string(build && *build ? build : ".") + "/trust-test-XXXXXX";
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = fs::absolute(templ).lexically_normal().string();
    ::chmod(path_.c_str(), 0755);
  }
  ~TrustDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  // A file (or folder) under the temp folder, with `mode`.
  std::string file(const std::string& name, mode_t mode) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p) << "not really a plugin\n";
    ::chmod(p.c_str(), mode);
    return p;
  }
  std::string folder(const std::string& name, mode_t mode) const {
    const std::string p = path_ + "/" + name;
    fs::create_directories(p);
    ::chmod(p.c_str(), mode);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The checks below need a trusted starting point; a checkout that is
// group-writable (umask 002) is not one.
bool base_trusted(const TrustDir& dir) {
  std::string problem;
  if (plugin_file_trusted(dir.file("probe.so", 0644), ::geteuid(), problem)) return true;
  MESSAGE("SKIPPED: the build tree itself is not trusted, so no case can pass: " << problem);
  return false;
}

}  // namespace

TEST_CASE("a file and folders owned by root or the host's user, writable by nobody else, are trusted") {
  TrustDir dir;
  if (!base_trusted(dir)) return;
  std::string problem;
  CHECK(plugin_file_trusted(dir.file("good.so", 0755), ::geteuid(), problem));
  CHECK(plugin_file_trusted(dir.file("readonly.so", 0444), ::geteuid(), problem));
  const std::string sub = dir.folder("sub/deeper", 0755);
  CHECK(plugin_file_trusted(dir.file("sub/deeper/x.so", 0700), ::geteuid(), problem));
  // A relative path is judged as the absolute one it names.
  const std::string relative = fs::relative(sub + "/x.so").string();
  CHECK_MESSAGE(plugin_file_trusted(relative, ::geteuid(), problem), problem);
}

TEST_CASE("a plugin file writable by its group or by others is refused, naming owner, mode and fix") {
  TrustDir dir;
  if (!base_trusted(dir)) return;
  std::string problem;
  const std::string group = dir.file("group.so", 0775);
  CHECK_FALSE(plugin_file_trusted(group, ::geteuid(), problem));
  CHECK(contains(problem, "file " + group + " is writable by its group"));
  CHECK(contains(problem, "mode 0775"));
  CHECK(contains(problem, "owner uid " + std::to_string(::geteuid())));
  CHECK(contains(problem, "fix: chmod go-w " + group));

  const std::string others = dir.file("others.so", 0646);
  CHECK_FALSE(plugin_file_trusted(others, ::geteuid(), problem));
  CHECK(contains(problem, "file " + others + " is writable by others (owner"));
  CHECK(contains(problem, "mode 0646"));
}

TEST_CASE("a folder on the path writable by group or others is refused, sticky or not") {
  TrustDir dir;
  if (!base_trusted(dir)) return;
  std::string problem;
  const std::string open = dir.folder("open", 0777);
  dir.file("open/x.so", 0755);
  CHECK_FALSE(plugin_file_trusted(open + "/x.so", ::geteuid(), problem));
  CHECK(contains(problem, "folder " + open + " is writable by its group and by others"));
  CHECK(contains(problem, "mode 0777"));

  // Above the file, not just its own folder.
  const std::string upper = dir.folder("upper", 0775);
  dir.folder("upper/lower", 0755);
  dir.file("upper/lower/x.so", 0755);
  CHECK_FALSE(plugin_file_trusted(upper + "/lower/x.so", ::geteuid(), problem));
  CHECK(contains(problem, "folder " + upper + " is writable by its group ("));

  // Like /tmp: the sticky bit still lets anyone create the name first.
  const std::string sticky = dir.folder("sticky", 01777);
  dir.file("sticky/x.so", 0755);
  CHECK_FALSE(plugin_file_trusted(sticky + "/x.so", ::geteuid(), problem));
  CHECK(contains(problem, "mode 1777"));
  CHECK(contains(problem, "a sticky folder still lets anyone create a file there"));
}

TEST_CASE("a symlink is judged by the folder it sits in and by the file it points to") {
  TrustDir dir;
  if (!base_trusted(dir)) return;
  std::string problem;
  const std::string good = dir.file("good.so", 0755);
  const std::string open = dir.folder("open", 0777);
  const std::string bad = dir.file("open/bad.so", 0755);

  fs::create_symlink(good, dir.path() + "/to-good.so");
  CHECK(plugin_file_trusted(dir.path() + "/to-good.so", ::geteuid(), problem));

  // A trusted link to a file in an open folder: the target's folder decides.
  fs::create_symlink(bad, dir.path() + "/to-bad.so");
  CHECK_FALSE(plugin_file_trusted(dir.path() + "/to-bad.so", ::geteuid(), problem));
  CHECK(contains(problem, "folder " + open + " is writable"));

  // A link in an open folder to a good file: anyone could re-point it.
  fs::create_symlink(good, open + "/link.so");
  CHECK_FALSE(plugin_file_trusted(open + "/link.so", ::geteuid(), problem));
  CHECK(contains(problem, "folder " + open + " is writable"));

  // Trusted at both ends, through that link in the middle: still refused.
  fs::create_symlink(open + "/link.so", dir.path() + "/via-open.so");
  CHECK_FALSE(plugin_file_trusted(dir.path() + "/via-open.so", ::geteuid(), problem));
  CHECK(contains(problem, "folder " + open + " is writable"));
}

TEST_CASE("a missing file cannot be checked") {
  TrustDir dir;
  std::string problem;
  CHECK_FALSE(plugin_file_trusted(dir.path() + "/missing.so", ::geteuid(), problem));
  CHECK(contains(problem, "cannot check " + dir.path() + "/missing.so"));
}

TEST_CASE("a file or folder owned by another user is refused unless that user runs the host") {
  if (::geteuid() != 0) {
    MESSAGE("SKIPPED: ownership checks need root (to chown files to another user)");
    return;
  }
  TrustDir dir;
  if (!base_trusted(dir)) return;
  std::string problem;
  const std::string theirs = dir.file("theirs.so", 0755);
  REQUIRE(::chown(theirs.c_str(), kNobody, 0) == 0);
  CHECK_FALSE(plugin_file_trusted(theirs, 0, problem));
  CHECK(contains(problem, "file " + theirs + " is owned by uid 65534"));
  CHECK(contains(problem, "mode 0755"));
  CHECK(contains(problem, "not by root or by uid 0"));
  CHECK(contains(problem, "fix: chown root " + theirs));
  // The same file is fine for a host running as its owner (in folders
  // owned by root).
  CHECK_MESSAGE(plugin_file_trusted(theirs, kNobody, problem), problem);

  const std::string folder = dir.folder("theirs", 0755);
  const std::string inside = dir.file("theirs/x.so", 0755);
  REQUIRE(::chown(folder.c_str(), kNobody, 0) == 0);
  CHECK_FALSE(plugin_file_trusted(inside, 0, problem));
  CHECK(contains(problem, "folder " + folder + " is owned by uid 65534"));
}

TEST_CASE("a plugin under /tmp is refused: /tmp is writable by everyone") {
  struct stat st{};
  if (::stat("/tmp", &st) != 0 || (st.st_mode & S_IWOTH) == 0) {
    MESSAGE("SKIPPED: /tmp is not world-writable here");
    return;
  }
  char templ[] = "/tmp/bentos-trust-XXXXXX";
  REQUIRE(::mkdtemp(templ));
  const std::string file = std::string(templ) + "/x.so";
  std::ofstream(file) << "x";
  ::chmod(file.c_str(), 0755);
  std::string problem;
  CHECK_FALSE(plugin_file_trusted(file, ::geteuid(), problem));
  CHECK(contains(problem, "folder /tmp is writable"));
  std::error_code ec;
  fs::remove_all(templ, ec);
}
