/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Declarations shared by the sandbox's files: the child's plan, the sync protocol, the pump. */
#ifndef BALE_SANDBOX_INTERNAL_H
#define BALE_SANDBOX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <linux/filter.h>

#include "common/strbuf.h"
#include "runtime/sandbox/sandbox.h"

/*
 * The child reports to the parent through a pipe of records, each written with a single
 * write() (atomic below PIPE_BUF). The pipe is close-on-exec, so it reaches EOF when init
 * exits and the command has exec'd or died.
 */
enum rt_sbx_record_type
{
  RT_SBX_ERROR = 'E',   /* setup or exec failed: errnum and a message */
  RT_SBX_COPY = 'C',    /* overlayfs was unavailable: the copy_root fallback is in use */
  RT_SBX_STUB = 'M',    /* a mount stub was created at this in-root path (copy_root mode) */
  RT_SBX_STATUS = 'S',  /* the command's wait status, in errnum */
  RT_SBX_HELLO = 'H',   /* the child runs; ignored by the parent */
};
#define RT_SBX_MSG_MAX 3900
struct rt_sbx_record
{
  char type;
  int errnum;
  char msg[RT_SBX_MSG_MAX];
};
/* 0, or -1 when the parent is gone. */
int rt_sbx_send (int fd, char type, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
/* Report a failure of the child to the parent and _exit(127): the forked side of the
   sandbox has nothing to unwind to (bubblewrap's die_with_error). */
void rt_sbx_die (int fd, int errnum, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)))
__attribute__ ((noreturn));

/* Everything the child needs, computed by the parent before the fork. */
struct rt_sbx_plan
{
  const struct sandbox_spec *spec;
  int sync_fd;     /* write end of the record pipe */
  int out_fd;      /* the command's stdout and stderr (pipe ends in prefix mode) */
  int err_fd;
  int in_fd;       /* the command's stdin */
  char *scratch;   /* the sandbox's own temporary directory */
  char *root;      /* scratch/root: the mount point of the new root */
  char *stubs;     /* scratch/stub: the overlay layer that holds the mount points */
  char *etc_dir;   /* scratch/etc: the generated hosts, resolv.conf and hostname */
  bool kept;       /* scratch is in spec->keep_dir, kept for the next step with etc_dir */
  char *overlay_opts; /* legacy overlay mount data, or NULL (copy mode, or unusable paths) */
  bool legacy_overlay; /* mount with overlay_opts, not one "lowerdir+" per layer */
  const struct sock_fprog *seccomp; /* the compiled filter; NULL with spec->insecure */
  int notify_sock;     /* rootless: the command sends its seccomp listener here, else -1 */
  struct rt_sbx_made *made; /* chroot isolation: what rt_sbx_chroot_prepare made in the root */
  size_t n_made;
  struct rt_sbx_emount *emounts; /* chroot isolation: the mounts emulated by copies */
  size_t n_emounts;
  struct rt_sbx_estub *estubs; /* and the mount points they needed, removed after the step */
  size_t n_estubs;
  char *emount_dir; /* next to the copied root: what the mounts' targets held, and copies */
};

/* The files of /etc the sandbox provides, in plan->etc_dir: hosts and resolv.conf, and for
   docker run (not a build step, which sees the image's own) hostname. Returns how many. */
size_t rt_sbx_etc_files (const struct sandbox_spec *spec, const char *names[3]);

/* Create the scratch directory (mode 0700, below spec->tmpdir) with the generated /etc files,
   and in overlay mode the stub layer and the legacy overlay data. */
int rt_sbx_plan_init (struct rt_sbx_plan *plan, const struct sandbox_spec *spec,
                      bale_error_t *err);
/* Remove the scratch directory and free the plan's strings. */
void rt_sbx_plan_release (struct rt_sbx_plan *plan);

/* In the child, as PID 1 of the new namespaces: build the root, run the command, report its
   status. Never returns. */
void rt_sbx_child_main (const struct rt_sbx_plan *plan) __attribute__ ((noreturn));

/* Child side: mount the rootfs and everything in it at plan->root, then pivot_root into it. */
void rt_sbx_setup_rootfs (const struct rt_sbx_plan *plan);

/* Child side, in the new root before pivot_root: mask runc's default paths of /proc and /sys
   (bind /dev/null over files, an empty read-only tmpfs over directories) and make its
   read-only paths read-only. */
void rt_sbx_mask_paths (int sync, int rootfd);
/* In the command's process before it takes the step's user: resource limits, the bounding
   set and the seccomp filter (loaded while we still hold CAP_SYS_ADMIN). */
void rt_sbx_confine_early (const struct rt_sbx_plan *plan);
/* After it took the user: permitted and effective sets, empty inheritable and ambient. */
void rt_sbx_confine_late (const struct rt_sbx_plan *plan, bool as_user);

/* Parent side: the output pump of prefix mode. */
struct rt_sbx_stream
{
  int fd;           /* read end, -1 once at EOF */
  int out;          /* where prefixed lines go */
  void (*on_line) (void *ctx, int stream, const char *line, size_t len); /* or this */
  void *line_ctx;
  int stream;       /* 1 stdout, 2 stderr */
  struct strbuf partial; /* the line being collected */
};
struct rt_sbx_tail
{
  char *lines[SANDBOX_TAIL_LINES];
  size_t next;      /* ring index of the oldest line once full */
  size_t count;
};
/* Read what is available on s, write complete lines with prefix, remember them in tail.
   At EOF, flush the partial line and set s->fd to -1. */
void rt_sbx_pump (struct rt_sbx_stream *s, const char *prefix, struct rt_sbx_tail *tail);
/* The tail as one string (caller frees), or NULL when empty; releases the lines. */
char *rt_sbx_tail_take (struct rt_sbx_tail *tail);

/* ---- rootless RUN steps: chown and mknod answered by bale (sandbox_notify.c) ---- */

/* Parent side: the socket the listener arrives on, then the listener. */
#define RT_SBX_MAX_GROUPS 64
/* The ids a process of a one-id step has for bale, which answers for them: the kernel knows
   only root there (sandbox_ids.c). */
enum { RT_SBX_REAL, RT_SBX_EFFECTIVE, RT_SBX_SAVED, RT_SBX_FS };
struct rt_sbx_cred
{
  uint32_t uid[4]; /* indexed by RT_SBX_REAL ... RT_SBX_FS */
  uint32_t gid[4];
  uint32_t n_groups; /* supplementary groups, which getgroups answers */
  uint32_t groups[RT_SBX_MAX_GROUPS];
  uint32_t caps; /* RT_SBX_CAP_*: the capabilities a root build's process would have */
};
/* Root's capabilities (all of them, or none: CAP_SETUID stands for the set) in the
   effective and permitted sets, and PR_SET_KEEPCAPS. */
#define RT_SBX_CAP_EFFECTIVE 1u
#define RT_SBX_CAP_PERMITTED 2u
#define RT_SBX_CAP_KEEP 4u
/* A process that changed its ids (set*id, setgroups), or a child it had then (it keeps the
   ids it was forked with); the others have their parent's, up to the step's command. */
struct rt_sbx_proc
{
  pid_t pid;                /* its thread-group id */
  unsigned long long start; /* its start time: a reused pid is another process */
  struct rt_sbx_cred cred;
};
struct rt_sbx_notifier
{
  int sock;
  int fd;
  int upper;      /* the step's upper directory (O_PATH), where its symlinks' owners live */
  bool emulate;   /* one id: the step's ids are bale's to answer (sandbox_ids.c) */
  uid_t uid;      /* the step's USER */
  gid_t gid;
  struct rt_sbx_cred dflt; /* what the step's command starts with: USER's ids and groups */
  struct rt_sbx_proc *procs; /* the processes whose ids differ from their parent's */
  size_t n_procs, cap_procs;
  /* What bale cannot emulate and a root build would do (setgroups of more groups than
     RT_SBX_MAX_GROUPS): the step is killed and fails with this message. */
  char *fatal;
};
#define RT_SBX_NOTIFIER_INIT { .sock = -1, .fd = -1, .upper = -1 }
/* Whether this process's steps get the filter (a rootless build). */
bool rt_sbx_notify_wanted (void);
/* A socket pair when wanted (*child_end for the plan), else both -1. */
int rt_sbx_notify_open (struct rt_sbx_notifier *n, const struct sandbox_spec *spec,
                        int *child_end, bale_error_t *err);
void rt_sbx_notify_release (struct rt_sbx_notifier *n);
/* The two pollfds to watch (fd -1 is ignored by poll), and what to do when they fire. */
size_t rt_sbx_notify_pollfds (const struct rt_sbx_notifier *n, struct pollfd *pfd);
void rt_sbx_notify_ready (struct rt_sbx_notifier *n, const struct pollfd *pfd);
/* Child side, in the command before it execs: load the filter and send its listener over
   sock (then closed), with the user the step runs as. No-op for sock -1; dies on failure. */
void rt_sbx_notify_install (int sync, int sock, uid_t uid, gid_t gid, const gid_t *groups,
                            size_t n_groups);
/* Whether a step as uid:gid runs as root of the one-id namespace with its ids emulated. */
bool rt_sbx_as_user (uid_t uid, gid_t gid);

/* ---- inside the notifier: one intercepted call (sandbox_notify_call.c) ---- */

struct seccomp_data;
struct rt_sbx_call
{
  struct rt_sbx_notifier *n;
  struct rt_sbx_cred *cred; /* the caller's ids (emulate mode), else NULL */
  uint64_t id;           /* the notification's id */
  pid_t pid;
  int mem;               /* /proc/PID/mem (read-write in emulate mode) */
  int root;              /* /proc/PID/root: the step's root */
  struct stat root_st;
  uint64_t root_mnt;     /* its mount id: what bale acts on must be on this very mount */
};
/* What to answer: an error (negative errno), a value, or let the kernel run the call. */
struct rt_sbx_reply
{
  int error;
  int64_t val;
  bool cont; /* SECCOMP_USER_NOTIF_FLAG_CONTINUE: only where bale decides nothing */
  bool sent; /* answered already (SECCOMP_ADDFD_FLAG_SEND) */
};
/* The NUL-terminated string at addr of the target, copied once. 0 or -errno. */
int rt_sbx_call_string (const struct rt_sbx_call *c, uint64_t addr, char out[PATH_MAX]);
/* dirfd + path of the target resolved in its root, an O_PATH handle on the step's own root
   mount; nofollow for the last component. 0 or -errno. */
int rt_sbx_call_resolve (const struct rt_sbx_call *c, int dirfd, const char *path, bool nofollow,
                         int *out);
/* The directory that will hold path's last component, and that component (in name, which
   is NAME_MAX + 1 long). 0 or -errno (-EEXIST for "/", "." or ".."). */
int rt_sbx_call_parent (const struct rt_sbx_call *c, int dirfd, const char *path, int *parent,
                        char *name);
/* The target's own descriptor fd, when it is a file of the step's root. 0 or -errno. */
int rt_sbx_call_target_fd (const struct rt_sbx_call *c, int fd, int *out);
/* The mount id of fd (statx), 0 when unknown. */
uint64_t rt_sbx_mount_id (int fd);
/* The target's umask. */
mode_t rt_sbx_call_umask (const struct rt_sbx_call *c);
/* Record uid:gid as the owner of the entry handle (O_PATH; any kind): the override xattr
   of files and directories, the table of runtime/fs/owners.h for symlinks and FIFOs. 0 or
   -errno. */
int rt_sbx_record (const struct rt_sbx_call *c, int handle, uid_t uid, gid_t gid);
/* The recorded (else real) owner and mode of handle. 0 or -errno. */
int rt_sbx_owner (const struct rt_sbx_call *c, int handle, struct stat *st);

/* emulate mode (sandbox_asuser.c): the extra rules, and the calls they send. */
int rt_sbx_asuser_rules (void *ctx);
/* A SCMP_ACT_NOTIFY rule for each named call this machine has (sandbox_notify_call.c, as
   the two below). */
int rt_sbx_notify_names (void *ctx, const char *const *names, size_t n);
/* Handle d when it is one of those calls (true), else false. */
bool rt_sbx_asuser_handle (const struct rt_sbx_call *c, const struct seccomp_data *d,
                           struct rt_sbx_reply *out);
/* Whether the caller may chown handle to (wuid, wgid) (-EPERM if not). */
int rt_sbx_asuser_may_chown (const struct rt_sbx_call *c, int handle, uid_t wuid, gid_t wgid);
/* Whether the caller is in group gid (its fs group or a supplementary one). */
bool rt_sbx_in_group (const struct rt_sbx_cred *cr, gid_t gid);
/* 0 when cr may make and remove entries in the directory st (write and search permission by
   its recorded owner, or root's capabilities); -EACCES, or -ENOTDIR for another kind. */
int rt_sbx_may_write_dir (const struct rt_sbx_cred *cr, const struct stat *st);
/* O_TMPFILE less O_DIRECTORY: the bit that tells it from an O_DIRECTORY open. */
#define TMPFILE_BIT (O_TMPFILE & ~O_DIRECTORY)
/* link, rename and bind (sandbox_asuser_names.c): the rules, and the check of one call
   (true when d is one; out->cont when the kernel may run it). */
int rt_sbx_asuser_names_rules (void *ctx);
bool rt_sbx_asuser_names (const struct rt_sbx_call *c, const struct seccomp_data *d,
                          struct rt_sbx_reply *out);
/* stat, lstat, fstat, newfstatat and statx (sandbox_stat.c): the rules, and the answer to
   one call (true when d is one): the recorded owner, or out->cont. */
int rt_sbx_stat_rules (void *ctx);
bool rt_sbx_stat (const struct rt_sbx_call *c, const struct seccomp_data *d, struct rt_sbx_reply *out);

/* ---- the ids of each process of a one-id step (sandbox_ids.c) ---- */

/* The ids of the thread tid (a process of the step); &n->dflt when none of its ancestors
   changed theirs. */
struct rt_sbx_cred *rt_sbx_ids_of (struct rt_sbx_notifier *n, pid_t tid);
/* Answer d when it is a call of the getuid and setuid families or getgroups/setgroups
   (true), else false. */
bool rt_sbx_ids_handle (const struct rt_sbx_call *c, const struct seccomp_data *d,
                        struct rt_sbx_reply *out);
/* The kernel's rules for nr (setuid ... setfsgid) with args applied to *cred as bale
   emulates them (privileged: euid 0); 0 or -errno, *val what the call returns. */
int rt_sbx_ids_apply (int nr, const uint64_t *args, struct rt_sbx_cred *cred, int64_t *val);
/* Forget every process (a new command). */
void rt_sbx_ids_reset (struct rt_sbx_notifier *n);

/* ---- chroot isolation: no namespace, no mount (sandbox_chroot.c) ---- */

/* Parent side, before the step: Docker's device nodes and the generated /etc files made in
   spec->copy_root where the image has none. */
int rt_sbx_chroot_prepare (struct rt_sbx_plan *plan, bale_error_t *err);
/* Parent side, after the step: remove them again, leaving their directories' mtimes as the
   step left them. */
void rt_sbx_chroot_restore (struct rt_sbx_plan *plan);
void rt_sbx_chroot_release (struct rt_sbx_plan *plan);
/* The O_PATH descriptor of a bind mount's source: bale's own path, or one inside
   source_root resolved there (runtime/fs/inroot.h). -1 with errno. */
int rt_sbx_mount_source (const struct sandbox_mount *m);
/* RUN --mount without mounting (sandbox_chroot_mounts.c): each mount's source copied into
   the root at its target (what the target held set aside), and after the step the copies
   checked (not moved nor hard-linked out: the step fails), written back to a writable
   bind's source, removed, and the targets' entries put back. */
int rt_sbx_chroot_mounts_prepare (struct rt_sbx_plan *plan, int rootfd, bale_error_t *err);
int rt_sbx_chroot_mounts_restore (struct rt_sbx_plan *plan, bale_error_t *err);
void rt_sbx_chroot_mounts_release (struct rt_sbx_plan *plan);
/* The command's process: chroot into spec->copy_root. Dies on failure. */
void rt_sbx_chroot_enter (const struct rt_sbx_plan *plan);
/* Init, when the command has exited: kill and reap every process the step left. */
void rt_sbx_chroot_kill_rest (void);

#endif
