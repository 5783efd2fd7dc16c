// `bentosctl new-driver`: fills the templates and writes them, refusing to
// overwrite anything.
#include "new_driver.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string_view>

#include "new_driver_templates.h"
#include "session.h"

namespace bentos::ctl {

const char kNewDriverUsage[] = R"HELP(Usage: bentosctl new-driver NAME --pattern PATTERN [--lang cpp|c] [--dir DIR]

Writes a driver project that builds and passes its test as generated:
  NAME.cpp or NAME.c   the driver (C++ with bentos/driver.hpp, or C with
                       bentos/driver.h)
  Makefile             builds NAME.so with `pkg-config bentos-driver` (an
                       explicit plugin list); `make test` builds the test
                       with `pkg-config bentos-testing` and runs it
  devices.json         the manifest: one device NAME
  NAME_test.cpp        the test (doctest): NAME.so loaded into an
                       in-process host by bentos/testing.hpp, driven file
                       op by file op; no daemon, no sockets
  README.md            what each file is

NAME is the driver's and the device's name: a lower-case letter, then
lower-case letters, digits or '_' (at most 64 characters).

Options:
  --pattern PATTERN   p1 (pure stream), p2 (write-then-read), p3 (event
                      stream), p4 (configured stream) or raw
  --lang LANG         cpp (default; every pattern) or c (raw, p1, p2, p3)
  --dir DIR           where to write (default ./NAME; created if missing)

Nothing is overwritten: when any of the files exists, nothing is written and
the exit status is 2. Build and test it with the SDK and the test harness
installed (PKG_CONFIG_PATH set as in the guide): `make test`.

Examples:
  bentosctl new-driver mykv --pattern p2
  bentosctl new-driver sensor --pattern p3 --lang c --dir ~/drivers/sensor
)HELP";

namespace {

namespace fs = std::filesystem;

struct Request {
  std::string name;
  std::string pattern;
  std::string language = "cpp";
  std::string dir;
};

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t start = 0;
  for (size_t at; (at = text.find(from, start)) != std::string_view::npos; start = at + from.size()) {
    out.append(text.substr(start, at - start));
    out.append(to);
  }
  out.append(text.substr(start));
  return out;
}

// Parses the arguments; "" or the usage error.
std::string parse(const std::vector<std::string>& args, Request& request) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string* value = nullptr;
    std::string option = arg;
    std::string attached;
    if (const size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      option = arg.substr(0, eq);
      attached = arg.substr(eq + 1);
    }
    if (option == "--pattern") value = &request.pattern;
    else if (option == "--lang") value = &request.language;
    else if (option == "--dir") value = &request.dir;
    else if (!arg.empty() && arg[0] == '-') return "new-driver: unknown option '" + arg + "'";
    else if (request.name.empty()) {
      request.name = arg;
      continue;
    } else {
      return "new-driver: unexpected argument '" + arg + "' (one NAME only)";
    }
    if (option != arg) {
      *value = attached;
    } else if (i + 1 < args.size()) {
      *value = args[++i];
    } else {
      return "new-driver: option '" + option + "' needs a value";
    }
  }
  if (request.name.empty()) return "new-driver: missing NAME (bentosctl new-driver NAME --pattern p2)";
  if (std::string problem = check_driver_name(request.name); !problem.empty()) return "new-driver: " + problem;
  if (request.pattern.empty()) return "new-driver: missing --pattern (p1, p2, p3, p4 or raw)";
  if (request.language != "cpp" && request.language != "c")
    return "new-driver: --lang is cpp or c, found '" + request.language + "'";
  if (!templates::find_template(request.pattern, "cpp"))
    return "new-driver: --pattern is p1, p2, p3, p4 or raw, found '" + request.pattern + "'";
  if (!templates::find_template(request.pattern, request.language))
    return "new-driver: no C template for " + request.pattern + " yet; use --lang cpp";
  if (request.dir.empty()) request.dir = request.name;
  return "";
}

struct OutputFile {
  std::string name;
  std::string text;
};

std::vector<OutputFile> fill(const Request& request) {
  const templates::DriverTemplate& t = *templates::find_template(request.pattern, request.language);
  const bool cpp = request.language == "cpp";
  const std::string source = request.name + (cpp ? ".cpp" : ".c");
  const auto names = [&](std::string_view text) {
    // The empty list loses its blank too: "C_PLUGINS :=", not "C_PLUGINS := ".
    std::string out = replace_all(text, cpp ? " @C_PLUGINS@" : " @CPP_PLUGINS@", "");
    out = replace_all(out, "@NAME@", request.name);
    out = replace_all(out, "@SOURCE@", source);
    out = replace_all(out, "@PATTERN@", request.pattern);
    out = replace_all(out, "@CPP_PLUGINS@", cpp ? request.name : "");
    return replace_all(out, "@C_PLUGINS@", cpp ? "" : request.name);
  };
  const std::string test = replace_all(templates::kTestFile, "@TEST_CASES@", t.test_cases);
  return {
      {source, names(t.source)},
      {"Makefile", names(templates::kMakefile)},
      {"devices.json", names(templates::kManifest)},
      {request.name + "_test.cpp", names(test)},
      {"README.md", names(templates::kReadme)},
  };
}

}  // namespace

std::string check_driver_name(const std::string& name) {
  const auto bad = [&name](const std::string& why) {
    return "invalid NAME '" + name + "': " + why +
           " (a lower-case letter, then lower-case letters, digits or '_': it names the driver, the "
           "device and C symbols)";
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 64) return bad("longer than 64 characters");
  if (name[0] < 'a' || name[0] > 'z') return bad("must start with a lower-case letter");
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return bad(std::string("character '") + c + "' not allowed");
  }
  return "";
}

int new_driver_command(const std::vector<std::string>& args) {
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::cout << kNewDriverUsage;
      return kExitOk;
    }
  }
  Request request;
  if (std::string error = parse(args, request); !error.empty()) return usage_error(error);
  const std::vector<OutputFile> files = fill(request);
  const fs::path dir(request.dir);
  // Every file checked before any is written: all or nothing.
  std::vector<std::string> existing;
  for (const auto& f : files) {
    std::error_code ec;
    if (fs::exists(dir / f.name, ec) || ec) existing.push_back((dir / f.name).string());
  }
  if (!existing.empty()) {
    std::string list;
    for (const auto& e : existing) list += (list.empty() ? "" : ", ") + e;
    return usage_error("new-driver: refusing to overwrite " + list + "; nothing written (choose another --dir)");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return usage_error("new-driver: cannot create " + dir.string() + ": " + ec.message());
  for (const auto& f : files) {
    const fs::path path = dir / f.name;
    std::ofstream out(path, std::ios::binary);
    out << f.text;
    out.close();
    if (!out) return usage_error("new-driver: cannot write " + path.string());
  }
  std::cout << "wrote " << dir.string() << "/: ";
  for (size_t i = 0; i < files.size(); ++i) std::cout << (i ? ", " : "") << files[i].name;
  std::cout << "\nnext: cd " << dir.string()
            << " && make test   (with PKG_CONFIG_PATH finding bentos-driver and bentos-testing)\n";
  return kExitOk;
}

}  // namespace bentos::ctl
