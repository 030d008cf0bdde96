/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Run one command (a RUN step, `bale run`) in a Linux namespace sandbox on an overlay rootfs. */
#ifndef BALE_SANDBOX_H
#define BALE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "bale.h"

/*
 * The step runs in new mount, PID, UTS and IPC namespaces (and a new network namespace with
 * only `lo` for SANDBOX_NET_NONE), as root of the host user namespace: the caller must be
 * root. Its root filesystem is an overlay of the read-only lowerdirs with the caller's
 * upperdir, entered with pivot_root; it gets a fresh /proc, a minimal /dev, a read-only /sys
 * and generated /etc/hosts, /etc/resolv.conf and /etc/hostname, none of which ever land in
 * upperdir. PID 1 of the step is a small init that reaps zombies and forwards signals; when
 * the command exits, every other process of the step is killed.
 *
 * The command is confined as runc confines a container of Docker's default spec (unless
 * spec.insecure): bounding, permitted and effective capabilities are Docker's 14 (inheritable
 * and ambient empty, no_new_privs off), Docker's default seccomp profile is loaded, /proc has
 * runc's masked and read-only paths and /sys its masked ones; /dev holds null, zero, full,
 * random, urandom, tty, a private devpts, /dev/shm and /dev/mqueue, no other host device.
 * sandbox_prepare compiles the seccomp filter; a caller that forks workers calls it first, so
 * that a build compiles it once.
 *
 * Mount points never land in the layer. /proc, /dev, /sys and the three /etc files are
 * mounted on entries of a "stub layer", an extra topmost lower directory in the scratch
 * directory, so mounting on them creates nothing in upperdir; its directories take the mode,
 * owner and times of the image's own, so that a copy-up records the image's metadata. This
 * also hides whatever an image put there (/dev -> /tmp/x, /etc/resolv.conf -> /etc/shadow).
 * Targets of extra mounts that do not exist are created in the merged root and removed from
 * upperdir after the step, deepest first and only while empty; a parent directory of such a
 * target that existed in a lower layer stays copied up (with unchanged metadata). In copy
 * mode every missing mount point is such a stub, and /proc, /dev and /sys must be directories.
 *
 * The overlay is mounted with one "lowerdir+" per layer where the kernel has it (Linux 6.8),
 * else with the legacy mount data, which limits the layer paths to one page and refuses ',',
 * ':' and '\' in them; BALE_OVERLAY_LEGACY=1 in the environment forces the latter.
 *
 * sandbox_run is meant for single-threaded callers: it installs SIGINT, SIGTERM and SIGHUP
 * handlers for the duration of the call (SIGCHLD is left alone) and forks without running
 * atfork handlers. A caller that runs steps in parallel runs each from its own process.
 */

enum sandbox_network
{
  SANDBOX_NET_HOST = 0, /* share the host's network namespace (buildah's chroot isolation) */
  SANDBOX_NET_NONE,     /* a new network namespace with only the loopback interface, up */
};

enum sandbox_mount_type
{
  SANDBOX_MOUNT_BIND = 0,
  SANDBOX_MOUNT_TMPFS,
};

/* `--ulimit NAME=SOFT[:HARD]`: set for the command before it runs. */
struct sandbox_rlimit
{
  int resource; /* RLIMIT_* */
  rlim_t soft, hard;
};

/* `--add-host NAME:IP`: one more line of the step's /etc/hosts. */
struct sandbox_host
{
  const char *name;
  const char *ip;
};

/* One extra mount (RUN --mount). Strings are borrowed. */
struct sandbox_mount
{
  enum sandbox_mount_type type;
  const char *source;  /* BIND: a host path (file or directory), or with source_root a path
                          inside it; unused for TMPFS */
  const char *target;  /* absolute path inside the rootfs; created when missing, then
                          removed from the upper directory after the step */
  bool readonly;
  const char *options; /* TMPFS: mount data such as "size=64m,mode=1777", or NULL */
  /* BIND: NULL, or the directory (a stage's view, the build context, a cache) that source
     names a path of. The step's own mount namespace resolves it there (runtime/fs/inroot.h:
     symlinks and ".." stay inside) and mounts that descriptor, never a host path string. */
  const char *source_root;
  bool source_beneath; /* with source_root: leaving it is an error, not clamped (a context) */
};

/* What to run and where. Fill it with sandbox_spec_init first; every pointer is borrowed. */
struct sandbox_spec
{
  const char *name; /* the step's label in messages, e.g. "RUN" or "[2/5] RUN make" */

  /* overlay mode: lowerdirs (top first, may be empty for FROM scratch), upperdir, workdir
     (empty directories of the caller's on one filesystem, e.g. next to each other) */
  const char *const *lowerdirs;
  size_t n_lowerdirs;
  const char *upperdir;
  const char *workdir;
  /* Mount the overlay "volatile" (Linux 5.10; where the kernel refuses the option, a plain
     mount is made): its unmount does not sync the upper directory's file system, which for
     a step that writes much is most of its teardown, and fsync inside the step does
     nothing. The caller must then take upperdir for unsynced (a snapshot made of it is
     marked so, runtime/layer/layer.h), and empty workdir before it is mounted again:
     overlayfs refuses a work directory that holds work/incompat/volatile. */
  bool volatile_upper;
  /* fallback: a plain directory used directly as the rootfs when overlayfs is unavailable
     (or when force_copy is set). Mount stubs created in it are removed after the step. */
  const char *copy_root;
  bool force_copy;
  /* chroot isolation (runtime/fs/isolation.h), with copy_root: no namespace and no mount; the
     command is chrooted into copy_root with Docker's capabilities but CAP_SYS_CHROOT, and
     Docker's seccomp profile under no_new_privs. It shares bale's PID, network, IPC and UTS
     namespaces; extra mounts and SANDBOX_NET_NONE are refused. */
  bool chroot;

  const char *const *argv; /* NULL-terminated; argv[0] is looked up in the step's PATH */
  const char *const *env;  /* NULL-terminated "KEY=VALUE" list, or NULL for none */
  const char *cwd;         /* absolute; created (owned by the user) when missing; NULL is "/" */
  const char *cwd_raw;     /* cwd as the image's WorkingDir spells it ("/x/.." for "/"), or
                              NULL: what it names is created too, root's, as runc's MkdirAll
                              of the unclean path does (FINDINGS F62) */
  const char *user;        /* "name", "uid", "name:group", "uid:gid"; NULL or "" is root */
  /* The primary group among the supplementary ones too (`id` shows groups=...,1000(app)), as
     docker run and today's BuildKit RUN steps set them (ensureAdditionalGids). */
  bool primary_group_in_groups;
  /* A Dockerfile's RUN step: the host name, /etc files and environment BuildKit gives one
     (host name buildkitsandbox, /etc/hosts naming it, no /etc/hostname, /etc/hosts and
     /etc/resolv.conf read-only, no HOSTNAME variable). Otherwise docker run's: HOSTNAME set,
     /etc/hostname mounted, everything writable. */
  bool build_step;
  const char *hostname;    /* NULL: sandbox_hostname's default */
  enum sandbox_network network;
  const struct sandbox_mount *mounts;
  size_t n_mounts;
  const struct sandbox_host *hosts;     /* extra /etc/hosts lines */
  size_t n_hosts;
  const struct sandbox_rlimit *rlimits; /* none: the limits bale runs with, as BuildKit */
  size_t n_rlimits;
  uint64_t shm_size;                    /* bytes of /dev/shm; 0: 64 MiB */
  /* RUN --security=insecure: the command keeps every capability bale has, no seccomp filter,
     nothing masked in /proc and /sys, /sys writable. The caller checks the entitlement. */
  bool insecure;

  int stdin_fd;  /* -1: /dev/null */
  int stdout_fd; /* where the step's standard output goes */
  int stderr_fd;
  /* NULL: the step writes straight to stdout_fd and stderr_fd. Otherwise its output goes
     through a pump that writes every line as `prefix line` to the same fds and keeps the
     last SANDBOX_TAIL_LINES lines in sandbox_result.tail. */
  const char *prefix;
  /* Prefix mode: when set, each line goes to on_line (stream 1 stdout, 2 stderr; the line
     without its newline) instead of the fds; the tail is kept all the same. */
  void (*on_line) (void *ctx, int stream, const char *line, size_t len);
  void *line_ctx;
  /* A descriptor bale polls while the step runs (-1: none): on_watch (watch_ctx) is called
     each time it is readable (exec_run drains the copied root's inotify events with it). */
  int watch_fd;
  void (*on_watch) (void *ctx);
  void *watch_ctx;
  /* Chroot isolation, which emulates RUN --mount by copies: called with watch_ctx for each
     file of the root a mount's copy covered, when it is back in place after the step (path
     in the root without its leading '/', st its stat). The step could not reach it, but the
     exchange moved its ctime, and its copy's writes were seen in its directory. */
  void (*on_unmounted) (void *ctx, const char *path, const struct stat *st);
  const char *tmpdir; /* scratch space of the sandbox itself; NULL: $TMPDIR or /tmp */
  /* With an overlay: a directory that outlives the step (the caller removes it), where the
     sandbox keeps the root mount point and the stub layer for the next step of this process,
     which only refreshes the stubs' metadata; the /etc files are still made per step, in
     tmpdir. NULL: everything is made and removed per step. */
  const char *keep_dir;
  /* Hand the step's mount namespace back in sandbox_result.mnt_ns instead of letting it go
     with the command: its mounts (the overlay, /proc...) then stay, reachable by no process,
     until the caller closes it. Unmounting an overlay through which a step made thousands
     of files takes tens of milliseconds (its inodes evicted), which the caller can spend
     elsewhere (exec_reaper). Ignored with chroot isolation (no namespace of its own). */
  bool keep_mnt_ns;
};

#define SANDBOX_TAIL_LINES 20

struct sandbox_result
{
  bool exited;          /* the command exited: exit_code is valid */
  int exit_code;
  int term_signal;      /* the command was killed by this signal (when !exited and > 0) */
  bool interrupted;     /* bale got SIGINT/SIGTERM/SIGHUP: the step was killed and cleaned */
  int interrupt_signal; /* which one; the caller should finish up and exit */
  bool used_copy_root;  /* the copy_root fallback was used */
  char *tail;           /* the last output lines (prefix mode), each ending in '\n'; or NULL */
  bool has_mnt_ns;      /* spec->keep_mnt_ns: mnt_ns is the step's mount namespace, open */
  int mnt_ns;
};

/* Compile what every sandbox of this process (and its forks) shares: the seccomp filter.
   sandbox_run calls it too; calling it early only moves the work before the forks. */
int sandbox_prepare (bale_error_t *err);

/* Defaults: stdin /dev/null, stdout 1, stderr 2, host network, root, "/". */
void sandbox_spec_init (struct sandbox_spec *spec);

/*
 * Run spec->argv in a new sandbox and wait for it. Fills *res (release it with
 * sandbox_result_release, also after a failure). Returns 0 when the command ran, whatever its
 * exit status (see sandbox_result_check), or when bale was interrupted (res->interrupted);
 * returns < 0 when the sandbox could not be set up or the command could not be executed.
 * Every mount, process and temporary file of the step is gone when it returns, but for the
 * mounts of res->mnt_ns (spec->keep_mnt_ns).
 */
/* The host name of the step: spec->hostname, else "buildkitsandbox" for a build step (what
   BuildKit names its sandbox), else "bale". */
const char *sandbox_hostname (const struct sandbox_spec *spec);

int sandbox_run (const struct sandbox_spec *spec, struct sandbox_result *res, bale_error_t *err);

/* Free what res holds and zero it. Accepts a zeroed result. */
void sandbox_result_release (struct sandbox_result *res);

/*
 * 0 when the command exited with 0. Otherwise an error such as `RUN returned exit code 3`
 * or `RUN was killed by signal 9 (Killed)` followed by the output tail; the caller adds the
 * Dockerfile location.
 */
int sandbox_result_check (const struct sandbox_result *res, bale_error_t *err);

/* Docker's `--ulimit NAME=SOFT[:HARD]` (go-units ParseUlimit; -1 is unlimited). */
int sandbox_parse_ulimit (const char *arg, struct sandbox_rlimit *out, bale_error_t *err);
/* Docker's `--add-host NAME:IP` (or NAME=IP, [IPv6]): *name and *ip are allocated. */
int sandbox_parse_host (const char *arg, char **name, char **ip, bale_error_t *err);
/* Docker's sizes (go-units RAMInBytes): "64m", "1.5g", "512MiB", "1000000". */
int sandbox_parse_size (const char *arg, uint64_t *out, bale_error_t *err);

/* A user resolved like Docker does (runc's GetExecUser). */
struct sandbox_user
{
  uid_t uid;
  gid_t gid;
  gid_t *groups; /* supplementary groups: the groups listing the user by name */
  size_t n_groups;
  char *home;    /* from /etc/passwd, or NULL */
};

/*
 * Resolve spec (see sandbox_spec.user) through rootfd's /etc/passwd and /etc/group, opened
 * inside the root (symlinks cannot leave it) and read as regular files of at most 4 MiB.
 * A name that is not found is an error; a numeric uid or gid that is not found is used as is
 * (gid 0 for a uid without an entry). Ids must be below 2^31. Free with sandbox_user_release.
 */
int sandbox_resolve_user (int rootfd, const char *spec, struct sandbox_user *out,
                          bale_error_t *err);
void sandbox_user_release (struct sandbox_user *u);

#endif
