/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scratch directories of a build removed by a process of their own while the build goes on. */
#ifndef BALE_EXEC_REAPER_H
#define BALE_EXEC_REAPER_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Each directory removed frees a block, and on a filesystem mounted with `discard` and no
 * journal (this project's machines, docs/perf.md) each free is a discard request the caller
 * waits for: the two directories overlayfs leaves in a RUN step's work directory cost a step
 * 1-2 ms. The executor renames such a directory out of the way (no block freed) into the
 * build's sandbox directory and names it to the reaper, a child process forked when the
 * sandbox directory is made, which removes it while the next step runs.
 *
 * A process, not a thread: a RUN step's sandbox is cloned from the executor without
 * pthread_atfork's protection, so no other thread may hold a lock of libc then. Stage
 * processes forked later share the reaper (its socket is a SOCK_SEQPACKET one: each name is
 * one message). The reaper ends when the executor shuts its end down or every copy of it is
 * closed; the executor then removes the sandbox directory with whatever the reaper did not
 * (it was killed, say).
 */
struct exec_reaper
{
  int fd;    /* the executor's end of the socket, or -1: names are removed at once */
  pid_t pid; /* the reaper, or -1 */
  int dir_fd;
  unsigned long seq;
  pid_t owner;     /* the process that started it: only it ends it */
  int ns_wait_fd;  /* reads EOF once the namespace released last is gone, or -1 */
};

/* Start a reaper of the directory dir (the build's sandbox directory). When it cannot be
   started, exec_reaper_remove removes at once; nothing fails. */
void exec_reaper_start (struct exec_reaper *r, const char *dir);
/* Rename path (on dir's filesystem) into dir under a name of its own and have it removed
   there; removed at once when the reaper is not running or the rename fails. */
void exec_reaper_remove (struct exec_reaper *r, const char *path);
/* Give the file at path (when there is one) a second name in dir, which the reaper removes:
   the caller's rename of another file over path then frees no block itself. Nothing when the
   reaper is not running. */
void exec_reaper_keep (struct exec_reaper *r, const char *path);
/* exec_reaper_keep as a store_defer_fn (ctx: the reaper), for store_set_deferred_free. */
void exec_reaper_keep_cb (void *ctx, const char *path);
/* Have the reaper close ns_fd (taken: a RUN step's mount namespace, sandbox_spec's
   keep_mnt_ns), whose mounts then go while this process goes on; closed at once when the
   reaper cannot take it. Waits for the one released before, if any. */
void exec_reaper_release_ns (struct exec_reaper *r, int ns_fd);
/* Wait until the namespace released last is gone: before a step mounts a directory that
   the namespace's overlay still holds (the last step's upper directory, now a snapshot). */
void exec_reaper_wait_ns (struct exec_reaper *r);
/* Have every entry of dir removed, as exec_reaper_remove would. */
void exec_reaper_remove_all (struct exec_reaper *r);
/* In the process that started it: tell the reaper no more names come (also when stage
   processes or sandboxes still hold copies of the socket) and wait for it to finish. In any
   other process: close this process's copies. */
void exec_reaper_finish (struct exec_reaper *r);

#endif
