/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The executor's state, shared by the files that run the different kinds of steps. */
#ifndef BALE_EXECUTOR_INTERNAL_H
#define BALE_EXECUTOR_INTERNAL_H

#include <signal.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "common/strbuf.h"
#include "runtime/build/exec_reaper.h"
#include "runtime/build/executor.h"
#include "runtime/build/progress.h"

/* What a stage has built so far: every layer of its image (base first), and the diff_ids
   of those above the root base image. */
struct stage_state
{
  struct exec_layer *layers;
  size_t n_layers, alloc_layers;
  char **new_diff_ids;
  size_t n_new, alloc_new;
};

struct ctxhash;

struct executor
{
  struct plan *p;
  const struct exec_opts *o;
  struct stage_state *states; /* one per plan stage */
  size_t stepno;              /* steps run so far, for the progress lines */
  int overlay;                /* RUN on overlayfs: 1 yes, 0 no (copied rootfs), -1 untested */
  struct ctxhash *ctxhash;    /* the context's digests, loaded on first use */
  struct progress_vertex vertex; /* the step being run, for its output and warnings */
  /* When the step being run started: a context file changed since may hold other bytes in
     the layer than in the key (exec_cache_settled). */
  struct timespec step_start;
  char layer_written[512]; /* the layer's child saw this context file written since, or "" */
  /* The step that missed the cache: its inputs, recorded with its entry once it ran, and why
     it missed (--explain-cache), said when its vertex starts. */
  struct json_t *miss_inputs;
  char *miss_reason;
  struct json_t *listing; /* while a miss's inputs are taken: the context files described */
  /* A step whose cache key is taken while its layer is written (exec_cache_defer): its stage,
     where its key goes and the look-up (exec_cache_lookup_deferred: the layer's code calls
     it through here, below the cache's); st is NULL when no step is deferred. */
  struct
  {
    const struct plan_stage *st;
    char *key;
    int (*lookup) (struct executor *x, const struct plan_step *s);
    /* The key whose miss's inputs were written while the layer was (exec_cache_record
       writes them no more; removed if the step fails), or "". */
    char inputs_written[DIGEST_STRLEN + 1];
  } deferred;
  /* The layers this process made, by diff_id, and the instruction that made each: "parent
     layer changed: COPY src /src made another layer". */
  struct exec_made { char diff_id[DIGEST_STRLEN + 1]; char *what; } *made;
  size_t n_made, alloc_made;
  int key_lock;               /* o->shared_dir: the lock on the key of the step being run, or -1 */
  char *sandbox_dir;          /* the store's tmp/sandbox.XXXXXX: RUN sandboxes kept between steps */
  struct exec_reaper reaper;  /* removes what steps leave in sandbox_dir while the build goes on */
  /* The last RUN layer's fsync (an asynchronous request) and rename into blobs/, pending
     while the next RUN step runs (its snapshot is adopted already); NULL when none is. */
  struct store_commit *pending_commit;
};

/* The wall clock in nanoseconds since the epoch: a new layer's creation time. */
int64_t exec_now_ns (void);
/* Append l to s; is_new: a layer this stage made (its creation time is now when l has none). */
void exec_state_add_layer (struct stage_state *s, const struct exec_layer *l, bool is_new);
void exec_state_release (struct stage_state *s);
struct store_image;
/* Append the layers of an image of the store (the layers of a base or a --from image). */
void exec_state_add_image (struct executor *x, struct stage_state *s, const struct store_image *img);
/* The layers a --from reads: a stage's state, or an image of the store copied into tmp (the
   caller releases tmp). what names the flag in errors. */
int exec_source_layers (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
                        const struct plan_source *from, const char *what, struct stage_state *tmp,
                        struct stage_state **src, bale_error_t *err);

/* The network a RUN step gets: its own --network, else bale build --network, else the host's. */
enum sandbox_network exec_run_network (const struct executor *x, const struct plan_step *s);

/* Build one stage into x->states[st->index]; the stages it reads must be built. */
int exec_build_stage (struct executor *x, const struct plan_stage *st, bale_error_t *err);
/* Build every reachable stage, independent ones in parallel processes
   (runtime/build/exec_parallel.c). */
int exec_build_parallel (struct executor *x, bale_error_t *err);

/* A child process of the build (a stage, or a whole platform's build) as the parent sees it. */
struct exec_job
{
  pid_t pid;
  bool token;            /* it runs on a token of o->jobserver (given back when it ends) */
  int index;             /* the stage's, or the platform's */
  int fd;                /* the unlinked result file */
  int events;            /* the child's progress events (rawjson lines), -1 at EOF or none */
  struct strbuf pending; /* a line not complete yet */
};
/* How many children of the build may run at once: $BALE_JOBS when set (a positive number, as
   make -j), else one per CPU. */
long exec_job_limit (void);
/* May a child start now, besides the n_running of jobs? The first always may (every process
   owns one job); the others while fewer than exec_job_limit run and, under a shared limit,
   when a token can be taken from o->jobserver (without waiting). */
bool exec_job_may_start (const struct exec_opts *o, struct exec_job *jobs, size_t n_running);
/* jobs[i] ended: its token (or, when it had none, another running job's, which then runs on
   the one this process owns) goes back to o->jobserver. */
void exec_job_ended (const struct exec_opts *o, struct exec_job *jobs, size_t n_running, size_t i);
/* Fork a child of the build with an unlinked result file (j->fd) and, when o has a sink, a pipe
   for its events: in the child, 0, with *child a copy of o whose events go to the pipe (sink
   and pipe_w hold what it points to); in the parent, the child's pid with j filled; -1 with
   err when it cannot. */
pid_t exec_job_fork (const struct exec_opts *o, int index, struct exec_job *j, struct exec_opts *child,
                     struct bale_progress *sink, int *pipe_w, bale_error_t *err);
/* In the child: write result (and consume it) to fd, and exit, 1 when *e is set. */
_Noreturn void exec_job_exit (int fd, json_t *result, bale_error_t *e);
/* The child's sink is progress_pipe_event (runtime/build/progress.h). */
/* Pass the complete lines a child sent on to events; at EOF, close the pipe. */
void exec_job_read_events (const struct bale_progress *events, struct exec_job *j);
/* Wait for one of the jobs to end, relaying their events meanwhile: its pid, or -1 with
   errno (EINTR when a signal came). */
pid_t exec_job_wait (const struct bale_progress *events, struct exec_job *jobs, size_t n, int *status);
/* Error chains cross the process boundary as progress_errors_to_json/_from_json
   (runtime/build/progress.h). */

/* Add the step's located error "INSTR: msg", with the errno that caused it (status, or 0): a
   full store says "No space left on device". */
void exec_step_error (const struct executor *x, const struct plan_step *s, const char *msg,
                      int status, bale_error_t *err);

/* The signal (SIGINT, SIGTERM, SIGHUP) that arrived while exec_catch_signals held them, else
   0. The build stops at its next check (each step, each wait for a layer process), killing
   the processes it started and removing what it made in the store's tmp/; RUN's sandbox
   catches them itself while a step runs. */
extern volatile sig_atomic_t exec_interrupted;
/* Catch SIGINT, SIGTERM and SIGHUP into exec_interrupted (no SA_RESTART: a blocking call
   returns EINTR); old[3] receives the dispositions that exec_restore_signals puts back. */
void exec_catch_signals (struct sigaction old[3]);
void exec_restore_signals (const struct sigaction old[3]);

/* What the child reports: the layer's digests and size, or an error message. */
struct child_report
{
  int ok;
  char diff_id[DIGEST_STRLEN + 1];
  char digest[DIGEST_STRLEN + 1];
  int64_t size;
  char msg[4000];
  int status; /* the failure's errno, or 0 */
  char written[512]; /* a COPY from the context: a file written since the step began, or "" */
};

/* Runs in the child: write the layer tar to out_fd, fill rep's digests and size. */
typedef int (*exec_layer_fn) (void *ctx, int out_fd, struct child_report *rep, bale_error_t *err);
/* Make a layer in a child process (runtime/build/exec_layer.c); out->path is the caller's, the
   media type static. Errors are located at s. */
int exec_child_layer (struct executor *x, const struct plan_step *s, exec_layer_fn fn, void *ctx,
                      struct exec_layer *out, bale_error_t *err);
/* The same, unpacking the layer into the empty directory tree (in the store's tmp/) as it
   streams in, and adopting it as the layer's snapshot (out->snapshot, which the caller frees)
   when the unpack succeeded; else the tree is left for the caller to remove. Both return 1,
   and make no layer, when a deferred key (exec_cache_defer) found the layer in the cache. */
int exec_child_layer_unpacked (struct executor *x, const struct plan_step *s, exec_layer_fn fn,
                               void *ctx, const char *tree, struct exec_layer *out,
                               bale_error_t *err);

/* The same in this process, written straight into the store's temporary file and hashed once
   (by the layer writer): for a layer whose source needs no mount namespace of its own (a RUN
   step's upper directory). fn must write an uncompressed tar, whose digest is its diff_id. */
int exec_inline_layer (struct executor *x, const struct plan_step *s, exec_layer_fn fn, void *ctx,
                       struct exec_layer *out, bale_error_t *err);
/* exec_inline_layer's blob stored in the background: it has its name once exec_commit_wait
   returned, which every step but a RUN step on overlayfs (it reads snapshots, not blobs) and
   the end of a stage call first. */
int exec_inline_layer_async (struct executor *x, const struct plan_step *s, exec_layer_fn fn,
                             void *ctx, struct exec_layer *out, bale_error_t *err);
int exec_commit_wait (struct executor *x, bale_error_t *err);

/* RUN (runtime/build/exec_run.c); stepno numbers its output lines. */
int exec_run_step (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
                   size_t stepno, bale_error_t *err);

/* The build cache (runtime/build/exec_cache.c). lookup computes the step's key into key ("" when
   the step cannot be cached) and returns 1 when the cache had its layer, which is then
   added to the stage's state; 0 when the step must run. record keeps the stage's top layer
   under key after the step ran. finish saves the context index. */
int exec_cache_lookup (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
                       char key[DIGEST_STRLEN + 1]);
void exec_cache_record (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
                        const char *key);
void exec_cache_finish (struct executor *x);
/* After the step ran: false, with a warning on its vertex and key emptied (so that
   exec_cache_record keeps no entry), when a context file the key described changed since the
   step started. The key and the layer read the files at different moments (the layer's child
   later, or at the same time for a deferred key): a change in between would map the key of
   one content to a layer of another, which every later build with that content would take. */
bool exec_cache_settled (struct executor *x, const struct plan_step *s, char key[DIGEST_STRLEN + 1]);
/* A step begins: its time (x->step_start), no context file seen written since yet. */
void exec_cache_step_start (struct executor *x);
/*
 * A COPY from the context that this store most likely never built (no earlier build of the
 * step: a first build, a new step) is not looked up before it runs: lookup would read the
 * whole context only for the key, and the layer's writer would read it a second time. defer
 * says whether s is such a step; the layer's parent then calls exec_cache_lookup_deferred
 * once its child is writing the layer, so the key's reads and the layer's overlap (the
 * child reads from the page cache what the key's threads brought in). A hit all the same
 * returns 1 as exec_cache_lookup does, and the child's layer is dropped.
 */
bool exec_cache_defer (struct executor *x, const struct plan_stage *st, const struct plan_step *s);
int exec_cache_lookup_deferred (struct executor *x, const struct plan_step *s);
/* Whether a step after s reads the stage's filesystem (runtime/build/exec_copy.c): then s's
   layer will be needed as a snapshot. */
bool exec_needs_snapshot (struct executor *x, const struct plan_stage *st, const struct plan_step *s);
/* Let go of the key of the step being run (o->shared_dir). */
void exec_cache_unlock (struct executor *x);

/* COPY, ADD and WORKDIR (runtime/build/exec_copy.c): 0 when the step ran, 1 when its
   deferred key found the cache's layer (exec_cache_defer). */
int exec_fs_step (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
                  bale_error_t *err);
/* The snapshot directories of a stage's layers, top layer first, unpacked on first use; a
   layer that occurs more than once is listed at its topmost place only (snapshot_stack_unique;
   *n counts the distinct ones). The array is the caller's; the strings belong to the state. */
int exec_state_snapshots (struct executor *x, struct stage_state *s, const char ***out, size_t *n,
                          bale_error_t *err);

#endif
