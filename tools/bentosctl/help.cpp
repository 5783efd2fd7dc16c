#include "help.h"

namespace bentos::ctl {

const char kMainUsage[] = R"HELP(Usage: bentosctl [--help] [--version] COMMAND [ARGS]

Talks to a BentOS device endpoint the way bentosd does, and to a running
bentos-driver-host over its control socket. SOCKET is unix:///path.sock,
/path.sock, a relative path (run/kv.sock) or tcp://host:port.

Device commands:
  cat SOCKET                  read until EOF, copy the bytes to stdout (like cat;
                              Ctrl-C stops it cleanly)
  send SOCKET TEXT|-          write TEXT (or stdin), then print the answer as it
                              arrives, to EOF: the write-then-read (P2) round
                              trip, or a streamed answer (an LLM)
  open SOCKET [FLAGS]         open with FLAGS (default rw), print the answer
  read SOCKET [SIZE]          read once (--all: until EOF), print the answer
  write SOCKET TEXT|-         write TEXT, stdin (-), --file PATH or --hex HEX
  flush SOCKET                flush
  fsync SOCKET                fsync (--datasync: fdatasync)
  ioctl SOCKET CMD [PAYLOAD]  ioctl; CMD 0x80, 0xbe00 or "_IOW('B',1,int)";
                              PAYLOAD hex:01, int32:250, float64:1.5, text:hi
  poll SOCKET [EVENTS]        poll (default in|out), print revents
  release SOCKET              release
  run SOCKET OP...            a sequence of ops on one connection, one answer a line

Host commands (--control-socket PATH, default $BENTOS_CONTROL_SOCKET or
/run/bentos/driver-host.sock; --json prints the daemon's answer as is):
  list [DEVICE]               devices with their device path and socket (what
                              bentosd attaches), pattern, driver, plugin file
  status                      version, pid, uptime, devices, connections, sessions
  stats [DEVICE]              requests, latency, errors, bytes, limit counters
  metrics                     all of status and stats, latency histograms included,
                              in the Prometheus text format
  reload                      re-read the manifests (exit 1 if they have errors)
  host CONTROL_SOCKET [CMD]   the older spelling of CMD --control-socket CONTROL_SOCKET

Driver authors:
  new-driver NAME --pattern P write a driver project (source, Makefile, manifest,
                              test) that builds and passes as generated;
                              P is p1, p2, p3, p4 or raw; --lang cpp|c

open ... release each open a handle (--flags, default rw), do their op, release
it and print the op's answer; `run` chains ops on one handle.

Answers are printed one a line, errors by name and number: `error EAGAIN (11)`.
--json prints JSON instead (one object a line).

Exit status: 0 ok, 1 an op answered an errno (host commands: the daemon
answered an error), 2 usage or connection error, 130 or 143 interrupted
(SIGINT, SIGTERM).

Examples:
  bentosctl cat run/hello.sock                  # Hello from BentOS!
  bentosctl cat run/ticker.sock                 # a tick a second until Ctrl-C
  bentosctl send run/kv.sock 'name=bentos'      # OK
  bentosctl send run/kv.sock name               # bentos
  echo hello | bentosctl send run/synth.sock -  # olleh
  bentosctl ioctl run/synth.sock 0x80           # GET_CONFIG
  bentosctl read --json run/hello.sock
  bentosctl run run/synth.sock open ioctl "_IOW(0,1,int32)" int32:1 write hi read-all release
  bentosctl list --control-socket run/control.sock
  bentosctl stats kv

`bentosctl COMMAND --help` shows a command's options and more examples.
)HELP";

namespace {

const char kRunUsage[] = R"HELP(Usage: bentosctl run SOCKET [--fh N] [--timeout MS] [--out-size N] [--json] OP...

Opens one connection to SOCKET (unix:///path.sock, /abs/path.sock or
tcp://host:port), sends each OP in turn, waits for its answer and prints one
line per answer.

Options (anywhere before the first op):
  --fh N          file handle carried by every op (default 1)
  --timeout MS    connect timeout and per-answer time limit (default 5000;
                  0: wait for answers as long as it takes)
  --out-size N    out_bufsz sent with ioctl (default 4096)
  --json          print one JSON object per answer instead of text

Ops (an optional argument is taken when the next token is not an op name;
for read and poll, when it is a number or, for poll, event names):
  open [FLAGS]      open; FLAGS: ro|wo|rw, nonblock, append, creat, trunc, excl,
                    cloexec, ... joined with ',' or '|', or a number (default rw)
  write TEXT        write TEXT as is (no newline added)
  write-hex HEX     write bytes given in hex, e.g. 00ff10 or de:ad
  write-file PATH   write the contents of PATH
  write-stdin       write everything on standard input (read before connecting)
  read [SIZE]       read up to SIZE bytes (default 65536)
  read-all [SIZE]   read until EOF (or an error), one answer a read
  flush             flush
  fsync             fsync
  fdatasync         fsync with datasync set
  ioctl CMD [PAYLOAD]
                    ioctl CMD with an optional payload (see below)
  poll [EVENTS]     poll; EVENTS a number or names like in|out (default in|out)
  release           release the handle
  sleep MS          pause MS milliseconds

ioctl CMD: a number (decimal or 0x hex) or a Linux macro, quoted for the
shell: "_IO('T',1)", "_IOR('B',0,int)", "_IOW(0,1,int32)", "_IOWR(0xBE,2,8)";
TYPE and NR are numbers or 'c' characters, SIZE a type (char, short, int,
int32, uint32, long, int64, uint64, float, double, float64, ...) or bytes.
ioctl PAYLOAD: hex:DEAD, text:hello, int32:250, uint32:, int64:, uint64:,
int16:, uint16:, int8:, uint8:, float32:, float64:1.5 (little-endian; a
comma list packs several: int32:1,2), or bare hex (DEAD, de:ad).

Errors are printed by name and number: `read 65536: error EAGAIN (11)`.
Ctrl-C releases the open handle and exits 130.

Exit status: 0 every op succeeded, 1 some op answered an error, 2 usage or
connection error (no answer within the timeout, connection closed), 130/143
interrupted.

Examples:
  bentosctl run /tmp/bentos-kv.sock open rw write 'name=bentos' flush read release
  bentosctl run unix:///tmp/bentos-synth.sock open ioctl 0x80 release
  bentosctl run run/synth.sock open ioctl "_IOW(0,1,int32)" int32:1 ioctl 0xbe00 release
  bentosctl run run/synth.sock open write-file notes.txt read-all release
  printf 'k=v' | bentosctl run run/kv.sock open write-stdin read release
  bentosctl run --json --fh 7 tcp://127.0.0.1:7000 open rw,nonblock read 16 poll in release
)HELP";

const char kCatUsage[] = R"HELP(Usage: bentosctl cat SOCKET [--flags FLAGS] [--size N] [--fh N] [--timeout MS] [--json]

Opens SOCKET's device (default flags ro), reads until end of file and writes
the bytes to standard output as they are (no escaping), then releases. Reads
block like cat's: on an event device (P3) cat waits for every event until
Ctrl-C, which releases the handle and exits 130 (143 for SIGTERM). EAGAIN
(a write-then-read device with no request, a nonblock open with nothing to
read) counts as the end. When the reader goes away (`| head -3`), cat
releases and stops quietly with status 141, as if killed by SIGPIPE.

Options:
  --flags FLAGS   open flags (default ro; e.g. ro,nonblock)
  --size N        bytes asked for by each read (default 65536)
  --fh N          the file handle (default 1)
  --timeout MS    connect timeout and per-answer limit (default: none)
  --json          one JSON object per read instead of raw bytes

Examples:
  bentosctl cat run/hello.sock
  bentosctl cat run/ticker.sock | head -3
  bentosctl cat --flags ro,nonblock run/ticker.sock
)HELP";

const char kSendUsage[] = R"HELP(Usage: bentosctl send SOCKET TEXT|- [--flags FLAGS] [--size N] [--fh N] [--timeout MS] [--json]

The write-then-read round trip (P2 devices such as kv): opens (default rw),
writes TEXT (`-`: all of standard input) as one request, reads the answer to
its end (EOF), printing what each read returns on standard output as it
arrives, and releases. Works the same on stream devices: everything read
until EOF is printed, piece by piece (an LLM device's answer appears as it
streams).

An errno ends it with `bentosctl: send: error ENOENT (2)` on stderr and exit
status 1. --json prints one object: ok, data, data_hex, reads (or errno,
errno_name and the failed op).

Examples:
  bentosctl send run/kv.sock 'name=bentos'      # OK
  bentosctl send run/kv.sock name               # bentos
  echo hello | bentosctl send run/synth.sock -  # olleh
  bentosctl send run/llm.sock 'hello'           # the model's answer, as it streams
  bentosctl send --json run/kv.sock name
)HELP";

const char kOpUsage[] = R"HELP(Usage: bentosctl OP SOCKET [ARGS] [OPTIONS]

Each per-op command opens a handle (--flags, default rw), performs one op,
releases the handle and prints the op's answer, like a line of `bentosctl run`
(`read 65536: read 19 bytes: "Hello from BentOS!\n"`, `error EAGAIN (11)`).

  open SOCKET [FLAGS]          open with FLAGS (ro|wo|rw, nonblock, append, ...
                               joined with ',' or '|', or a number)
  read SOCKET [SIZE] [--all]   read up to SIZE bytes (default 65536); --all
                               reads until EOF or an error, one answer a read
  write SOCKET TEXT            write TEXT as is; `-` writes standard input,
       SOCKET --file PATH      the contents of PATH,
       SOCKET --hex HEX        bytes in hex
  flush SOCKET                 flush
  fsync SOCKET [--datasync]    fsync
  ioctl SOCKET CMD [PAYLOAD] [--out-size N]
                               CMD: decimal, 0x hex, "_IO('T',1)",
                               "_IOR('B',0,int)", "_IOW(0,1,int32)", "_IOWR(...)";
                               PAYLOAD: hex:DEAD, text:hi, int32:250,
                               float64:1.5, int8..uint64:, float32:, bare hex
  poll SOCKET [EVENTS]         poll (default in|out)
  release SOCKET               release

Options:
  --flags FLAGS   open flags (default rw)
  --fh N          the file handle (default 1)
  --timeout MS    connect timeout and per-answer limit (default: none; reads
                  block like read(2), Ctrl-C stops them)
  --json          JSON instead of text (one object a line)
  -v, --verbose   also print the open and release answers

Exit status: 0 ok, 1 the op answered an errno, 2 usage or connection error,
130/143 interrupted.

Examples:
  bentosctl read run/hello.sock
  bentosctl read --all run/hello.sock
  bentosctl read --flags ro,nonblock run/ticker.sock     # error EAGAIN (11)
  bentosctl write run/echo.sock 'hello'
  bentosctl write --file notes.txt run/kv.sock
  bentosctl ioctl run/synth.sock 0x80                    # GET_CONFIG
  bentosctl ioctl run/synth.sock 0xbe00                  # GET_STATE
  bentosctl ioctl run/playground.sock "_IO('T',1)"       # error ENOTTY (25)
  bentosctl poll --json run/kv.sock
  bentosctl open -v run/ticker.sock ro
)HELP";

}  // namespace

const char* command_usage(const std::string& command) {
  if (command == "run") return kRunUsage;
  if (command == "cat") return kCatUsage;
  if (command == "send") return kSendUsage;
  for (const char* op : {"open", "read", "write", "flush", "fsync", "ioctl", "poll", "release"}) {
    if (command == op) return kOpUsage;
  }
  return nullptr;
}

}  // namespace bentos::ctl
